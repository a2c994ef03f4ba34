"use client";
// Asking hosts for their objects of one kind, shared by the kind's page and a
// host's page. Operators only.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../trpc";
import { ErrorNote } from "../ui/error-note";
import { hostObjectApi, type THostObjectUiKind } from "./host-object-kind";

export function useRefreshHostObjects(kind: THostObjectUiKind) {
  const trpc = useTRPC();
  const api = hostObjectApi(trpc, kind.noun);
  const queryClient = useQueryClient();
  return useMutation(
    api.refresh.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: api.pathKey() }),
    }),
  );
}

type TRefresh = ReturnType<typeof useRefreshHostObjects>;

/** Asks the connected hosts (or one) to list their objects. */
export function RefreshHostObjectsButton({
  kind,
  refresh,
  hostId,
}: {
  kind: THostObjectUiKind;
  refresh: TRefresh;
  hostId?: string | null;
}) {
  return (
    <button
      type="button"
      onClick={() => refresh.mutate(hostId ? { hostId } : {})}
      disabled={refresh.isPending}
      title={kind.refresh.title}
    >
      {refresh.isPending ? "Refreshing…" : kind.refresh.label}
    </button>
  );
}

/** Why the refresh failed, or which hosts did not answer, each with why. */
export function RefreshHostObjectsResult({ refresh }: { refresh: TRefresh }) {
  const failed = (refresh.data?.hosts ?? []).filter((host) => !host.ok);
  return (
    <>
      <ErrorNote error={refresh.error} />
      {failed.length > 0 ? (
        <p role="alert" className="error-note">
          {failed.map((host) => `${host.hostName}: ${host.error ?? "did not answer"}`).join("\n")}
        </p>
      ) : null}
    </>
  );
}
