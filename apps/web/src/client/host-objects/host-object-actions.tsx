"use client";
// Creating host objects and asking hosts for theirs, shared by the Volumes and
// Networks pages and a host's page. Both need the operator role.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../trpc";
import { ErrorNote } from "../ui/error-note";
import { CreateOnHostForm } from "./create-on-host-form";
import { hostObjectApi, type THostObjectOf, type THostObjectUiKind } from "./host-object-kind";

export function CreateHostObject({ kind, fixedHostId }: { kind: THostObjectUiKind; fixedHostId?: string }) {
  const trpc = useTRPC();
  const api = hostObjectApi(trpc, kind.noun);
  const queryClient = useQueryClient();
  const extra = kind.useCreateFields();
  const create = useMutation(
    api.create.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: api.pathKey() }),
    }),
  );
  const created = (create.data as Record<string, THostObjectOf<typeof kind.noun>> | undefined)?.[kind.noun];
  return (
    <>
      <CreateOnHostForm
        what={kind.noun}
        fixedHostId={fixedHostId}
        placeholder={kind.createPlaceholder}
        pending={create.isPending}
        error={create.error}
        onCreate={async (hostId, name) => {
          try {
            await create.mutateAsync({ hostId, name, ...extra.input });
            return true;
          } catch {
            // The mutation keeps the error; the form shows it and keeps the name.
            return false;
          }
        }}
      >
        {extra.fields}
      </CreateOnHostForm>
      {created ? (
        <p className="muted" role="status">
          {`Created ${kind.noun} ${created.name} on ${created.hostName}${kind.createdDetail?.(created) ?? ""}.`}
        </p>
      ) : null}
    </>
  );
}

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
