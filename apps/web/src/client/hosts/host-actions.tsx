"use client";
// Drain, undrain and remove, shared by the host list and the host page.
// Draining needs an operator, removing an administrator (the procedures'
// roles); buttons a role cannot use are not rendered.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { RouterOutputs, THostView } from "../api-types";
import { useCan } from "../session";
import { useTRPC } from "../trpc";

export function useHostActions(options: { onRemoved?: (host: THostView) => void } = {}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.host.pathKey() });
  const drain = useMutation(
    trpc.host.drain.mutationOptions({
      onMutate: () => setError(null),
      onError: setError,
      onSettled: refresh,
    }),
  );
  const remove = useMutation(
    trpc.host.remove.mutationOptions({
      onMutate: () => setError(null),
      onError: setError,
      onSuccess: (host) => {
        // Out of every cached page at once, so a list shown next never flashes the removed host.
        queryClient.setQueriesData<RouterOutputs["host"]["list"]>(
          { queryKey: trpc.host.list.pathKey() },
          (data) => data && { ...data, items: data.items.filter((item) => item.id !== host.id) },
        );
        options.onRemoved?.(host);
      },
      onSettled: refresh,
    }),
  );
  /** The host a request is in flight for, to disable only its buttons. */
  const busyId = drain.isPending ? drain.variables?.id : remove.isPending ? remove.variables?.id : undefined;
  return { drain, remove, error, busyId };
}

export function HostActionButtons({
  host,
  actions,
  small = false,
}: {
  host: Pick<THostView, "id" | "name" | "draining" | "removedAt">;
  actions: ReturnType<typeof useHostActions>;
  small?: boolean;
}) {
  const canDrain = useCan("operator");
  const canRemove = useCan("admin");
  if (host.removedAt) return null;
  const busy = actions.busyId === host.id;
  const size = small ? "button-small" : "";
  return (
    <>
      {canDrain ? (
        <button
          type="button"
          className={size}
          disabled={busy}
          title={
            host.draining ? "Let the scheduler place containers here again" : "Place nothing new on this host"
          }
          onClick={() => actions.drain.mutate({ id: host.id, draining: !host.draining })}
        >
          {host.draining ? "Undrain" : "Drain"}
        </button>
      ) : null}
      {canRemove ? (
        <button
          type="button"
          className={`danger ${size}`.trim()}
          disabled={busy}
          onClick={() => {
            if (
              !window.confirm(
                `Remove host ${host.name}? Its agent is disconnected and its credential stops working.`,
              )
            ) {
              return;
            }
            actions.remove.mutate({ id: host.id });
          }}
        >
          Remove
        </button>
      ) : null}
    </>
  );
}
