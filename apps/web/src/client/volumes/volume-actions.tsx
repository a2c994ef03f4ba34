"use client";
// Creating volumes and asking hosts for their volumes' sizes, shared by the
// Volumes page and a host's page. Both need the operator role.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { CreateOnHostForm } from "../host-objects/create-on-host-form";
import { RefreshFailures } from "../host-objects/refresh-failures";
import { useTRPC } from "../trpc";
import { ErrorNote } from "../ui/error-note";

export function CreateVolume({ fixedHostId }: { fixedHostId?: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const create = useMutation(
    trpc.volume.create.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.volume.pathKey() }),
    }),
  );
  const created = create.data?.volume;
  return (
    <>
      <CreateOnHostForm
        what="volume"
        fixedHostId={fixedHostId}
        placeholder="e.g. pgdata"
        pending={create.isPending}
        error={create.error}
        onCreate={async (hostId, name) => {
          try {
            await create.mutateAsync({ hostId, name });
            return true;
          } catch {
            // The mutation keeps the error; the form shows it and keeps the name.
            return false;
          }
        }}
      />
      {created ? (
        <p className="muted" role="status">
          Created volume {created.name} on {created.hostName}.
        </p>
      ) : null}
    </>
  );
}

export function useRefreshVolumes() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return useMutation(
    trpc.volume.refresh.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.volume.pathKey() }),
    }),
  );
}

/** "Refresh sizes": asks the connected hosts (or one) to list their volumes with sizes. */
export function RefreshVolumesButton({
  refresh,
  hostId,
}: {
  refresh: ReturnType<typeof useRefreshVolumes>;
  hostId?: string | null;
}) {
  return (
    <button
      type="button"
      onClick={() => refresh.mutate(hostId ? { hostId } : {})}
      disabled={refresh.isPending}
      title="Ask the hosts for their volumes and how much each holds"
    >
      {refresh.isPending ? "Refreshing…" : "Refresh sizes"}
    </button>
  );
}

export function RefreshVolumesResult({ refresh }: { refresh: ReturnType<typeof useRefreshVolumes> }) {
  return (
    <>
      <ErrorNote error={refresh.error} />
      <RefreshFailures hosts={refresh.data?.hosts} />
    </>
  );
}
