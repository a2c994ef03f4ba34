"use client";
// Stop / Start / Restart / Remove, from a table row or the detail page. One
// mutation serves all four so a page shows one error and knows which
// container is busy. Only operators see the buttons (the server refuses the
// others anyway).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { errorMessage } from "../errors";
import { useCan } from "../session";
import { useTRPC, useTRPCClient } from "../trpc";

export type TContainerAction = "stop" | "start" | "restart" | "remove";

interface TActionTarget {
  id: string;
  name: string;
  desiredState: "running" | "stopped" | "removed";
  removedAt: Date | null;
}

const LABEL: Record<TContainerAction, string> = {
  stop: "Stop",
  start: "Start",
  restart: "Restart",
  remove: "Remove",
};

/** The actions that mean something for a container in its desired state. */
function actionsFor(container: TActionTarget): TContainerAction[] {
  if (container.removedAt || container.desiredState === "removed") return [];
  return container.desiredState === "running" ? ["stop", "restart", "remove"] : ["start", "remove"];
}

export function useContainerActions(options: { onRemoved?: (id: string) => void } = {}) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const mutation = useMutation({
    mutationFn: ({ action, target }: { action: TContainerAction; target: TActionTarget }) =>
      client.container[action].mutate({ id: target.id }),
    onSuccess: (_container, { action, target }) => {
      if (action === "remove") options.onRemoved?.(target.id);
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.container.pathKey() }),
  });
  const run = (action: TContainerAction, target: TActionTarget) => {
    if (action === "remove" && !window.confirm(`Remove container ${target.name}?`)) return;
    mutation.mutate({ action, target });
  };
  const busyId = mutation.isPending ? mutation.variables?.target.id : undefined;
  const failure = mutation.error
    ? `Could not ${mutation.variables?.action ?? "change"} ${mutation.variables?.target.name ?? "the container"}: ${errorMessage(mutation.error)}`
    : null;
  return { run, busyId, failure, dismiss: mutation.reset };
}

export function ContainerActionButtons({
  container,
  actions,
  small = false,
}: {
  container: TActionTarget;
  actions: ReturnType<typeof useContainerActions>;
  small?: boolean;
}) {
  const canOperate = useCan("operator");
  if (!canOperate) return null;
  const busy = actions.busyId === container.id;
  return (
    <>
      {actionsFor(container).map((action) => (
        <button
          key={action}
          type="button"
          className={
            [small ? "button-small" : "", action === "remove" ? "danger" : ""].join(" ").trim() || undefined
          }
          disabled={busy}
          title={small ? `${LABEL[action]} ${container.name}` : undefined}
          onClick={() => actions.run(action, container)}
        >
          {LABEL[action]}
        </button>
      ))}
    </>
  );
}
