"use client";
// The deployment's newest rollout as it moves (deployment.watchRollout over
// SSE: its current state first, then every change): how far it got, what it
// waits for, each replacement (which replica, the container it replaced and
// the one that replaced it, when, and why it failed), and the buttons that
// steer it. A change of state or of a step also refreshes the rest of the
// page, which reads the replicas and revisions by query.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import Link from "next/link";
import { useRef, useState } from "react";
import type { RouterOutputs } from "../api-types";
import { errorMessage } from "../errors";
import { useCan } from "../session";
import { useTRPC, useTRPCClient } from "../trpc";
import { ErrorNote } from "../ui/error-note";
import { RelativeTime } from "../ui/relative-time";
import { StatusBadge } from "../ui/status-badge";
import { useNow } from "../ui/use-now";
import styles from "./deployments.module.css";
import { RolloutProgress } from "./rollout-progress";

type TRolloutDetail = NonNullable<RouterOutputs["deployment"]["rollout"]>;
type TRolloutStep = TRolloutDetail["steps"][number];
type TRolloutCommand = "pause" | "resume" | "promote";

const COMMAND_LABEL: Record<TRolloutCommand, string> = {
  pause: "Pause",
  resume: "Resume",
  promote: "Promote",
};

/** The commands that mean something in this state (the server refuses the others). */
function commandsFor(state: TRolloutDetail["rollout"]["state"]): TRolloutCommand[] {
  if (state === "running" || state === "reverting") return ["pause"];
  if (state === "paused") return ["resume"];
  if (state === "awaiting-promotion") return ["promote"];
  return [];
}

/** What a watcher must re-read the page for: the state, and each step's state. */
function signatureOf(detail: TRolloutDetail | null): string {
  if (!detail) return "none";
  return [detail.rollout.id, detail.rollout.state, ...detail.steps.map((step) => step.state)].join(":");
}

export function RolloutTimeline({ deploymentId }: { deploymentId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const canOperate = useCan("operator");
  const now = useNow(5000);
  const [detail, setDetail] = useState<TRolloutDetail | null | undefined>(undefined);
  const seen = useRef<string | null>(null);

  const subscription = useSubscription(
    trpc.deployment.watchRollout.subscriptionOptions(
      { id: deploymentId },
      {
        onData: (message) => {
          const next = message.data.rollout;
          setDetail(next);
          const signature = signatureOf(next);
          if (seen.current !== null && seen.current !== signature) {
            void queryClient.invalidateQueries({
              queryKey: trpc.deployment.get.queryKey({ id: deploymentId }),
            });
            void queryClient.invalidateQueries({
              queryKey: trpc.deployment.history.queryKey({ id: deploymentId }),
            });
          }
          seen.current = signature;
        },
      },
    ),
  );

  return (
    <section className="card section" aria-labelledby="rollout-heading" data-testid="rollout-timeline">
      <div className={styles.cardHeading}>
        <h2 id="rollout-heading">Rollout</h2>
        <span className="muted">{subscription.status === "pending" ? "live" : null}</span>
      </div>
      <ErrorNote error={subscription.error} />
      {detail === undefined ? (
        <p className="muted">Loading the rollout…</p>
      ) : detail === null ? (
        <p className="muted">None yet: the deployment has not changed since it was created.</p>
      ) : (
        <RolloutBody detail={detail} now={now} canOperate={canOperate} deploymentId={deploymentId} />
      )}
    </section>
  );
}

function RolloutBody({
  detail,
  now,
  canOperate,
  deploymentId,
}: {
  detail: TRolloutDetail;
  now: number;
  canOperate: boolean;
  deploymentId: string;
}) {
  const { rollout, steps } = detail;
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const steer = useMutation({
    mutationFn: (command: TRolloutCommand) => client.deployment[command].mutate({ id: deploymentId }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.deployment.pathKey() }),
  });
  const commands = canOperate ? commandsFor(rollout.state) : [];
  const failed = rollout.state === "failed" || rollout.state === "cancelled";
  // Oldest first: the timeline reads down as the rollout went.
  const ordered = [...steps].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
  return (
    <>
      <div className={styles.cardHeading}>
        <span data-testid="rollout-revisions">
          {rollout.fromRevision === null ? "to" : `revision ${rollout.fromRevision} →`} revision{" "}
          {rollout.toRevision}
        </span>
        <RolloutProgress
          state={rollout.state}
          updated={rollout.progress.updated}
          desired={rollout.progress.desired}
          label="Rollout progress"
        />
        <span className="muted">
          by {rollout.createdBy}, started <RelativeTime date={rollout.createdAt} now={now} />
          {rollout.finishedAt ? (
            <>
              , ended <RelativeTime date={rollout.finishedAt} now={now} />
            </>
          ) : null}
        </span>
        <span className="spacer" />
        {commands.map((command) => (
          <button
            key={command}
            type="button"
            className={command === "promote" ? "primary" : undefined}
            disabled={steer.isPending}
            onClick={() => steer.mutate(command)}
          >
            {COMMAND_LABEL[command]}
          </button>
        ))}
      </div>
      {steer.error ? (
        <p role="alert" className="error-note">
          Could not {steer.variables ?? "change"} the rollout: {errorMessage(steer.error)}
        </p>
      ) : null}
      {rollout.waitingFor ? <p className="muted">Waiting for {rollout.waitingFor}.</p> : null}
      {rollout.reason ? (
        <p className={failed ? "error-note" : "notice"} data-testid="rollout-reason">
          {rollout.reason}
        </p>
      ) : null}
      <p className="muted">
        {rollout.progress.updatedServing} of {rollout.progress.desired} serving on the new revision ·{" "}
        {rollout.progress.serving} serving in all · policy: {rollout.policy.order},{" "}
        {rollout.policy.maxParallel} at a time
        {rollout.policy.canary > 0 ? `, ${rollout.policy.canary} canaries` : ""}
        {rollout.policy.autoRevert ? ", auto-revert" : ""}
      </p>
      {ordered.length === 0 ? (
        <p className="muted">No replica replaced yet.</p>
      ) : (
        <ol className={styles.steps} aria-label="Replacements">
          {ordered.map((step) => (
            <RolloutStepItem key={step.id} step={step} now={now} />
          ))}
        </ol>
      )}
    </>
  );
}

function ContainerLink({ id, name }: { id: string | null; name: string | null }) {
  if (!id) return <span className="muted">{name ?? "none"}</span>;
  return (
    <Link href={`/containers/${id}`} className="mono">
      {name ?? id.slice(0, 8)}
    </Link>
  );
}

function RolloutStepItem({ step, now }: { step: TRolloutStep; now: number }) {
  return (
    <li className={styles.step} data-testid="rollout-step" data-state={step.state}>
      <span className="nowrap">
        replica {step.replicaIndex}
        {step.canary ? <span className="muted"> · canary</span> : null}
      </span>
      <span>
        <ContainerLink id={step.oldContainerId} name={step.oldContainerName} /> →{" "}
        <ContainerLink id={step.newContainerId} name={step.newContainerName} />{" "}
        <span className="muted">({step.order})</span>
      </span>
      <span className="nowrap">
        <StatusBadge status={step.state} testId="rollout-step-state" />{" "}
        <span className="muted">
          <RelativeTime date={step.startedAt} now={now} />
          {step.finishedAt ? (
            <>
              {" "}
              – <RelativeTime date={step.finishedAt} now={now} />
            </>
          ) : null}
        </span>
      </span>
      {step.reason ? (
        <span className={`${styles.stepReason} ${step.state === "failed" ? styles.stepFailed : "muted"}`}>
          {step.reason}
        </span>
      ) : null}
    </li>
  );
}
