"use client";
// Named volumes, a server-side page at a time: the whole fleet's on the
// Volumes page (filtered by host and name), one host's on its page. Operators
// can remove one that nothing uses; the server refuses while a container
// mounts it and its message says which.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import type { RouterOutputs } from "../api-types";
import { errorMessage } from "../errors";
import { formatBytes } from "../format";
import { hostObjectListInput, type THostObjectFilter } from "../host-objects/host-object-filter";
import styles from "../host-objects/host-objects.module.css";
import { UsedBy } from "../host-objects/used-by";
import { useCan } from "../session";
import { useTRPC } from "../trpc";
import { CursorPager, useCursorPages } from "../ui/cursor-pager";
import { EmptyState } from "../ui/empty-state";
import { ErrorNote } from "../ui/error-note";
import { RelativeTime } from "../ui/relative-time";
import { useNow } from "../ui/use-now";

export type TVolumeView = RouterOutputs["volume"]["list"]["items"][number];

const PAGE_SIZE = 50;

function useRemoveVolume() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [target, setTarget] = useState<TVolumeView | null>(null);
  const mutation = useMutation(
    trpc.volume.remove.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.volume.pathKey() }),
    }),
  );
  const remove = (volume: TVolumeView) => {
    if (!window.confirm(`Remove volume ${volume.name} on ${volume.hostName}? Its data is deleted.`)) return;
    setTarget(volume);
    mutation.mutate({ id: volume.id });
  };
  const removingId = mutation.isPending ? target?.id : undefined;
  const failure = mutation.error
    ? `Could not remove volume ${target?.name ?? ""}: ${errorMessage(mutation.error)}`
    : null;
  return { remove, removingId, failure, dismiss: mutation.reset };
}

export function VolumesList({
  filter,
  fixedHost = false,
  clearHref,
}: {
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
    trpc.volume.list.queryOptions(
      { ...hostObjectListInput(filter), cursor: pages.cursor, limit: PAGE_SIZE },
      { refetchInterval: 10_000, placeholderData: keepPreviousData },
    ),
  );
  const removal = useRemoveVolume();
  const items = list.data?.items ?? [];

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
        <p className="muted">Loading volumes…</p>
      ) : items.length === 0 && pages.page === 1 ? (
        filter.name.trim() !== "" || (!fixedHost && filter.hostId) ? (
          <EmptyState title="No volumes match these filters">
            {clearHref ? (
              <p>
                <Link href={clearHref}>Clear filters</Link>
              </p>
            ) : null}
          </EmptyState>
        ) : (
          <EmptyState title={fixedHost ? "No volumes on this host" : "No volumes yet"}>
            <p>
              {canOperate ? "Create one here, or run" : "Run"} a container with{" "}
              <code className="mono">-v name:/path</code>: the volume is created on the host it lands on and
              keeps its data when the container is replaced.
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
                <th scope="col">Driver</th>
                <th scope="col" className="num">
                  Size
                </th>
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
              {items.map((volume) => (
                <tr key={volume.id} data-volume-id={volume.id} data-host-id={volume.hostId}>
                  <td className={`mono ${styles.name}`}>{volume.name}</td>
                  {fixedHost ? null : (
                    <td className="nowrap">
                      <Link href={`/hosts/${volume.hostId}`}>{volume.hostName}</Link>
                    </td>
                  )}
                  <td>{volume.driver}</td>
                  <td
                    className="num nowrap"
                    title={
                      volume.sizeBytes === null ? "the engine has not said; Refresh sizes asks" : undefined
                    }
                  >
                    {formatBytes(volume.sizeBytes)}
                  </td>
                  <td className={styles.usedBy}>
                    <UsedBy containers={volume.usedBy} />
                  </td>
                  <td className="nowrap">
                    <RelativeTime date={volume.createdAt} now={now} />
                  </td>
                  {canOperate ? (
                    <td className="actions">
                      <button
                        type="button"
                        className="button-small danger"
                        disabled={removal.removingId === volume.id}
                        title={`Remove volume ${volume.name}`}
                        onClick={() => removal.remove(volume)}
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
