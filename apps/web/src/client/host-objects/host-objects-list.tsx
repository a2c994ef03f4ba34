"use client";
// Host objects of one kind, a server-side page at a time: the whole fleet's on
// the kind's page (filtered by host and name), one host's on its page.
// Operators can remove one that nothing uses; the server refuses while a
// container uses it and its message says which.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { errorMessage } from "../errors";
import { useCan } from "../session";
import { useTRPC } from "../trpc";
import { CursorPager, useCursorPages } from "../ui/cursor-pager";
import { EmptyState } from "../ui/empty-state";
import { ErrorNote } from "../ui/error-note";
import { RelativeTime } from "../ui/relative-time";
import { useNow } from "../ui/use-now";
import { hostObjectListInput, type THostObjectFilter } from "./host-object-filter";
import { hostObjectApi, type THostObjectOf, type THostObjectUiKind } from "./host-object-kind";
import styles from "./host-objects.module.css";

const PAGE_SIZE = 50;

type TObject = THostObjectOf<THostObjectUiKind["noun"]>;

function useRemoveHostObject(kind: THostObjectUiKind) {
  const trpc = useTRPC();
  const api = hostObjectApi(trpc, kind.noun);
  const queryClient = useQueryClient();
  const [target, setTarget] = useState<TObject | null>(null);
  const mutation = useMutation(
    api.remove.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: api.pathKey() }),
    }),
  );
  const remove = (object: TObject) => {
    const warning = kind.removeWarning ? ` ${kind.removeWarning}` : "";
    if (!window.confirm(`Remove ${kind.noun} ${object.name} on ${object.hostName}?${warning}`)) return;
    setTarget(object);
    mutation.mutate({ id: object.id });
  };
  const removingId = mutation.isPending ? target?.id : undefined;
  const failure = mutation.error
    ? `Could not remove ${kind.noun} ${target?.name ?? ""}: ${errorMessage(mutation.error)}`
    : null;
  return { remove, removingId, failure, dismiss: mutation.reset };
}

/** The containers that use an object, as links; stopped ones say so. */
function UsedBy({ containers }: { containers: TObject["usedBy"] }) {
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

export function HostObjectsList({
  kind,
  filter,
  fixedHost = false,
  clearHref,
}: {
  kind: THostObjectUiKind;
  filter: THostObjectFilter;
  /** On a host's page: no Host column, and the empty state speaks of this host. */
  fixedHost?: boolean;
  /** Where "Clear filters" goes when the filter finds nothing. */
  clearHref?: string;
}) {
  const trpc = useTRPC();
  const canOperate = useCan("operator");
  const now = useNow(30_000);
  const pages = useCursorPages();
  const list = useQuery(
    hostObjectApi(trpc, kind.noun).list.queryOptions(
      { ...hostObjectListInput(filter), cursor: pages.cursor, limit: PAGE_SIZE },
      { refetchInterval: 10_000, placeholderData: keepPreviousData },
    ),
  );
  const removal = useRemoveHostObject(kind);
  const items: readonly TObject[] = list.data?.items ?? [];
  const { noun, plural } = kind;

  return (
    <>
      <ErrorNote error={list.error} />
      {removal.failure ? (
        <p role="alert" className="error-note">
          {removal.failure}{" "}
          <button type="button" className="button-small" onClick={removal.dismiss}>
            Dismiss
          </button>
        </p>
      ) : null}
      {list.isPending ? (
        <p className="muted">{`Loading ${plural}…`}</p>
      ) : items.length === 0 && pages.page === 1 ? (
        filter.name.trim() !== "" || (!fixedHost && filter.hostId) ? (
          <EmptyState title={`No ${plural} match these filters`}>
            {clearHref ? (
              <p>
                <Link href={clearHref}>Clear filters</Link>
              </p>
            ) : null}
          </EmptyState>
        ) : (
          <EmptyState title={fixedHost ? `No ${plural} on this host` : `No ${plural} yet`}>
            <p>
              {canOperate ? "Create one here, or run" : "Run"} {kind.emptyHint}
            </p>
          </EmptyState>
        )
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                {fixedHost ? null : <th scope="col">Host</th>}
                {kind.headers}
                <th scope="col">Used by</th>
                <th scope="col">Created</th>
                {canOperate ? (
                  <th scope="col" className="num">
                    Actions
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {items.map((object) => (
                <tr key={object.id} {...{ [`data-${noun}-id`]: object.id }} data-host-id={object.hostId}>
                  <td className={`mono ${styles.name}`}>{object.name}</td>
                  {fixedHost ? null : (
                    <td className="nowrap">
                      <Link href={`/hosts/${object.hostId}`}>{object.hostName}</Link>
                    </td>
                  )}
                  {kind.cells(object)}
                  <td className={styles.usedBy}>
                    <UsedBy containers={object.usedBy} />
                  </td>
                  <td className="nowrap">
                    <RelativeTime date={object.createdAt} now={now} />
                  </td>
                  {canOperate ? (
                    <td className="actions">
                      <button
                        type="button"
                        className="button-small danger"
                        disabled={removal.removingId === object.id}
                        title={`Remove ${noun} ${object.name}`}
                        onClick={() => removal.remove(object)}
                      >
                        Remove
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <CursorPager pages={pages} nextCursor={list.data?.nextCursor} shown={items.length} />
    </>
  );
}
