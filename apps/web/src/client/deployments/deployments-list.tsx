"use client";
// Every deployment with what it runs, how many replicas serve, where its last
// rollout stands and when it last changed. deployment.list answers the whole
// (bounded) list at once, so the pages are cut here, with the same pager as
// the lists the server pages; the offset stands in for the server's cursor.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import type { RouterOutputs } from "../api-types";
import { useCan } from "../session";
import { useTRPC } from "../trpc";
import { CursorPager, useCursorPages } from "../ui/cursor-pager";
import { EmptyState } from "../ui/empty-state";
import { ErrorNote } from "../ui/error-note";
import { RelativeTime } from "../ui/relative-time";
import { useNow } from "../ui/use-now";
import styles from "./deployments.module.css";
import { RolloutProgress } from "./rollout-progress";

const PAGE_SIZE = 50;

type TDeploymentRow = RouterOutputs["deployment"]["list"]["items"][number];

export function DeploymentsList() {
  const trpc = useTRPC();
  const canOperate = useCan("operator");
  const pages = useCursorPages();
  const list = useQuery(
    trpc.deployment.list.queryOptions({}, { refetchInterval: 5000, placeholderData: keepPreviousData }),
  );
  const all = list.data?.items ?? [];
  const offset = Number(pages.cursor ?? "0");
  const items = all.slice(offset, offset + PAGE_SIZE);
  const nextCursor = offset + PAGE_SIZE < all.length ? String(offset + PAGE_SIZE) : null;

  return (
    <>
      <ErrorNote error={list.error} />
      {list.isPending ? (
        <p className="muted">Loading deployments…</p>
      ) : all.length === 0 ? (
        <div className="card">
          <EmptyState title="No deployments yet">
            <p>
              A deployment keeps N replicas of one container running and rolls changes out to them.{" "}
              {canOperate ? (
                <>
                  Create one from the <Link href="/run">run form</Link> with more than one replica and a name,
                  or with <code>fleet run --name web --replicas 3 IMAGE</code>.
                </>
              ) : (
                <>
                  Operators create them from the run form or with <code>fleet run --replicas N</code>.
                </>
              )}
            </p>
          </EmptyState>
        </div>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Image</th>
                <th scope="col" className="num">
                  Revision
                </th>
                <th scope="col" title="Healthy (or running without a health check) / running / desired">
                  Replicas
                </th>
                <th scope="col" title="Where replicas go, and how a rollout replaces them">
                  Strategy
                </th>
                <th scope="col">Rollout</th>
                <th scope="col">Last change</th>
              </tr>
            </thead>
            <tbody>
              {items.map((deployment) => (
                <DeploymentRow key={deployment.id} deployment={deployment} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <CursorPager pages={pages} nextCursor={nextCursor} shown={items.length} />
    </>
  );
}

function DeploymentRow({ deployment }: { deployment: TDeploymentRow }) {
  const now = useNow(5000);
  const { rollout } = deployment;
  return (
    <tr data-deployment-id={deployment.id}>
      <td>
        <Link href={`/deployments/${deployment.id}`} className={styles.name}>
          {deployment.name}
        </Link>
      </td>
      <td className={styles.image} title={deployment.image}>
        <span className="mono">{deployment.image}</span>
      </td>
      <td className="num" data-testid="deployment-revision">
        {deployment.revision}
      </td>
      <td className="nowrap" data-testid="deployment-replicas">
        {deployment.healthyReplicas}/{deployment.runningReplicas}/{deployment.replicas}
        {deployment.pendingPlacement > 0 ? (
          <span className="muted"> · {deployment.pendingPlacement} unplaced</span>
        ) : null}
      </td>
      <td className="nowrap">
        {deployment.strategy} <span className="muted">· {deployment.updatePolicy.order}</span>
      </td>
      <td className="nowrap">
        <RolloutProgress
          state={rollout?.state ?? null}
          updated={deployment.updatedReplicas}
          desired={deployment.replicas}
          label={`Rollout of ${deployment.name}`}
        />
      </td>
      <td className="nowrap">
        <RelativeTime date={deployment.updatedAt} now={now} />
      </td>
    </tr>
  );
}
