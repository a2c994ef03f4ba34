/** Hosts that did not answer a volume.refresh / network.refresh, each with why. */
export function RefreshFailures({
  hosts,
}: {
  hosts: readonly { hostName: string; ok: boolean; error: string | null }[] | undefined;
}) {
  const failed = (hosts ?? []).filter((host) => !host.ok);
  if (failed.length === 0) return null;
  return (
    <p role="alert" className="error-note">
      {failed.map((host) => `${host.hostName}: ${host.error ?? "did not answer"}`).join("\n")}
    </p>
  );
}
