"use client";
// Creating networks and asking hosts for theirs, shared by the Networks page
// and a host's page. Both need the operator role.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { CreateOnHostForm } from "../host-objects/create-on-host-form";
import styles from "../host-objects/host-objects.module.css";
import { RefreshFailures } from "../host-objects/refresh-failures";
import { useTRPC } from "../trpc";
import { ErrorNote } from "../ui/error-note";

export function CreateNetwork({ fixedHostId }: { fixedHostId?: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [internal, setInternal] = useState(false);
  const create = useMutation(
    trpc.network.create.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.network.pathKey() }),
    }),
  );
  const created = create.data?.network;
  return (
    <>
      <CreateOnHostForm
        what="network"
        fixedHostId={fixedHostId}
        placeholder="e.g. backend"
        pending={create.isPending}
        error={create.error}
        onCreate={async (hostId, name) => {
          try {
            await create.mutateAsync({ hostId, name, internal });
            return true;
          } catch {
            // The mutation keeps the error; the form shows it and keeps the name.
            return false;
          }
        }}
      >
        <label
          className={styles.inlineCheck}
          title="No route out of the host: containers reach only each other"
        >
          <input type="checkbox" checked={internal} onChange={(event) => setInternal(event.target.checked)} />
          Internal
        </label>
      </CreateOnHostForm>
      {created ? (
        <p className="muted" role="status">
          Created network {created.name} on {created.hostName}
          {created.subnet ? ` (${created.subnet})` : ""}.
        </p>
      ) : null}
    </>
  );
}

export function useRefreshNetworks() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return useMutation(
    trpc.network.refresh.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.network.pathKey() }),
    }),
  );
}

/** Asks the connected hosts (or one) to list their networks. */
export function RefreshNetworksButton({
  refresh,
  hostId,
}: {
  refresh: ReturnType<typeof useRefreshNetworks>;
  hostId?: string | null;
}) {
  return (
    <button
      type="button"
      onClick={() => refresh.mutate(hostId ? { hostId } : {})}
      disabled={refresh.isPending}
      title="Ask the hosts for their networks"
    >
      {refresh.isPending ? "Refreshing…" : "Refresh"}
    </button>
  );
}

export function RefreshNetworksResult({ refresh }: { refresh: ReturnType<typeof useRefreshNetworks> }) {
  return (
    <>
      <ErrorNote error={refresh.error} />
      <RefreshFailures hosts={refresh.data?.hosts} />
    </>
  );
}
