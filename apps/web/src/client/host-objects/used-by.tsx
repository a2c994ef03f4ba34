import Link from "next/link";

export interface TUser {
  id: string;
  name: string;
  desiredState: "running" | "stopped";
}

/** The containers that use a volume or network, as links; stopped ones say so. */
export function UsedBy({ containers }: { containers: readonly TUser[] }) {
  if (containers.length === 0) return <span className="muted">unused</span>;
  return (
    <span className="row" data-testid="used-by">
      {containers.map((container) => (
        <span key={container.id} className="nowrap">
          <Link href={`/containers/${container.id}`}>{container.name}</Link>
          {container.desiredState === "stopped" ? <span className="muted"> (stopped)</span> : null}
        </span>
      ))}
    </span>
  );
}
