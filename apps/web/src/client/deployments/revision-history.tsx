"use client";
// A deployment's revisions, newest first: what each changed against the one
// before (the API's one line; environment values never shown), who made it
// and when, how its rollout ended, and a way back to any earlier one. A
// rollback is itself a new revision with that one's spec, so it asks first.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorMessage } from "../errors";
import { useCan } from "../session";
import { useTRPC } from "../trpc";
import { ErrorNote } from "../ui/error-note";
import { RelativeTime } from "../ui/relative-time";
import { StatusBadge } from "../ui/status-badge";
import { useNow } from "../ui/use-now";
import styles from "./deployments.module.css";

export function RevisionHistory({
  deploymentId,
  deploymentName,
  removed,
}: {
  deploymentId: string;
  deploymentName: string;
  removed: boolean;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const canOperate = useCan("operator") && !removed;
  const now = useNow();
  const history = useQuery(
    trpc.deployment.history.queryOptions({ id: deploymentId }, { refetchInterval: 10_000 }),
  );
  const rollback = useMutation(
    trpc.deployment.rollback.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.deployment.pathKey() }),
    }),
  );
  const current = history.data?.revision ?? 0;

  const rollBackTo = (revision: number) => {
    const question =
      `Roll ${deploymentName} back to revision ${revision}?\n\n` +
      `This makes revision ${current + 1} with revision ${revision}'s spec and rolls it out to every replica by the update policy.`;
    if (!window.confirm(question)) return;
    rollback.mutate({ id: deploymentId, toRevision: revision });
  };

  return (
    <section className="card section" aria-labelledby="revisions-heading" data-testid="revision-history">
      <div className={styles.cardHeading}>
        <h2 id="revisions-heading">Revision history</h2>
        {rollback.isSuccess && rollback.data.change.revision !== null ? (
          <span className="muted" role="status">
            {`Revision ${rollback.data.change.revision} made from revision ${rollback.variables?.toRevision}.`}
          </span>
        ) : null}
      </div>
      <ErrorNote error={history.error} />
      {rollback.error ? (
        <p role="alert" className="error-note">
          Could not roll back to revision {rollback.variables?.toRevision}: {errorMessage(rollback.error)}
        </p>
      ) : null}
      {history.isPending ? (
        <p className="muted">Loading revisions…</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col" className="num">
                  Revision
                </th>
                <th scope="col">Change</th>
                <th scope="col">By</th>
                <th scope="col">When</th>
                <th scope="col">Rollout</th>
                {canOperate ? (
                  <th scope="col" className="num">
                    Actions
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {(history.data?.items ?? []).map((revision) => (
                <tr key={revision.number} data-revision={revision.number}>
                  <td className="num nowrap">
                    {revision.number}
                    {revision.current ? (
                      <>
                        {" "}
                        <span className="badge badge-ok">current</span>
                      </>
                    ) : null}
                  </td>
                  <td className={`mono ${styles.diff}`} data-testid="revision-diff" title={revision.image}>
                    {revision.diff || (revision.number === 1 ? "created" : "no change")}
                  </td>
                  <td className="nowrap">{revision.createdBy}</td>
                  <td className="nowrap">
                    <RelativeTime date={revision.createdAt} now={now} />
                  </td>
                  <td>
                    {revision.rolloutState ? (
                      <StatusBadge status={revision.rolloutState} />
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  {canOperate ? (
                    <td className="actions">
                      {revision.number < current ? (
                        <button
                          type="button"
                          className="button-small"
                          disabled={rollback.isPending}
                          onClick={() => rollBackTo(revision.number)}
                        >
                          Roll back to {revision.number}
                        </button>
                      ) : null}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
