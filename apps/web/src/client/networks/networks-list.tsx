"use client";
// User-defined networks, a server-side page at a time: the whole fleet's on
// the Networks page (filtered by host and name), one host's on its page.
// Containers on one network reach each other by name on that host. Operators
// can remove one that nothing uses; the server refuses while a container is
// attached and its message says which.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import type { RouterOutputs } from "../api-types";
import { errorMessage } from "../errors";
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

export type TNetworkView = RouterOutputs["network"]["list"]["items"][number];

const PAGE_SIZE = 50;

function useRemoveNetwork() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [target, setTarget] = useState<TNetworkView | null>(null);
  const mutation = useMutation(
    trpc.network.remove.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.network.pathKey() }),
    }),
  );
  const remove = (network: TNetworkView) => {
    if (!window.confirm(`Remove network ${network.name} on ${network.hostName}?`)) return;
    setTarget(network);
    mutation.mutate({ id: network.id });
  };
  const removingId = mutation.isPending ? target?.id : undefined;
  const failure = mutation.error
    ? `Could not remove network ${target?.name ?? ""}: ${errorMessage(mutation.error)}`
    : null;
  return { remove, removingId, failure, dismiss: mutation.reset };
}

export function NetworksList({
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
    trpc.network.list.queryOptions(
      { ...hostObjectListInput(filter), cursor: pages.cursor, limit: PAGE_SIZE },
      { refetchInterval: 10_000, placeholderData: keepPreviousData },
    ),
  );
  const removal = useRemoveNetwork();
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
        <p className="muted">Loading networks…</p>
      ) : items.length === 0 && pages.page === 1 ? (
        filter.name.trim() !== "" || (!fixedHost && filter.hostId) ? (
          <EmptyState title="No networks match these filters">
            {clearHref ? (
              <p>
                <Link href={clearHref}>Clear filters</Link>
              </p>
            ) : null}
          </EmptyState>
        ) : (
          <EmptyState title={fixedHost ? "No networks on this host" : "No networks yet"}>
            <p>
              {canOperate ? "Create one here, or run" : "Run"} a container with a network named in the run
              form&apos;s Networks field: the agent creates it on the host the container lands on.
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
                <th scope="col">Internal</th>
                <th scope="col">Subnet</th>
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
              {items.map((network) => (
                <tr key={network.id} data-network-id={network.id} data-host-id={network.hostId}>
                  <td className={`mono ${styles.name}`}>{network.name}</td>
                  {fixedHost ? null : (
                    <td className="nowrap">
                      <Link href={`/hosts/${network.hostId}`}>{network.hostName}</Link>
                    </td>
                  )}
                  <td>{network.driver}</td>
                  <td>{network.internal ? "yes" : <span className="muted">no</span>}</td>
                  <td className="mono nowrap">
                    {network.subnet ?? <span className="muted">—</span>}
                    {network.gateway ? <div className={styles.sub}>gateway {network.gateway}</div> : null}
                  </td>
                  <td className={styles.usedBy}>
                    <UsedBy containers={network.usedBy} />
                  </td>
                  <td className="nowrap">
                    <RelativeTime date={network.createdAt} now={now} />
                  </td>
                  {canOperate ? (
                    <td className="actions">
                      <button
                        type="button"
                        className="button-small danger"
                        disabled={removal.removingId === network.id}
                        title={`Remove network ${network.name}`}
                        onClick={() => removal.remove(network)}
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
