"use client";
// A container's health check as the dashboard shows it: the agent's verdict
// as a badge beside the state, and on the container page the check itself,
// when the verdict last changed and the last failing check's output.
import { formatDuration } from "@fleet/shared/units";
import type { TContainerView } from "../api-types";
import { formatDateTime, formatRelative } from "../format";
import { StatusBadge } from "../ui/status-badge";
import styles from "./containers.module.css";

type THealthCheckView = NonNullable<TContainerView["healthCheck"]>;

/** The verdict as a badge; nothing for a container without a check or without a verdict yet. */
export function HealthBadge({ container }: { container: Pick<TContainerView, "health" | "healthMessage"> }) {
  if (!container.health) return null;
  return (
    <span title={container.healthMessage ?? undefined}>
      <StatusBadge status={container.health} testId="container-health" />
    </span>
  );
}

/** What is checked, in the words of the flag that asks for it. */
function healthTestText(check: THealthCheckView): string {
  const { test } = check;
  if (test.type === "http") return `GET ${test.path} on port ${test.port}`;
  if (test.type === "tcp") return `TCP connect to port ${test.port}`;
  // `--health-cmd X` is stored as `sh -c X`: show X as it was typed.
  const [shell, flag, line, ...rest] = test.command;
  if (shell === "sh" && flag === "-c" && line !== undefined && rest.length === 0) return line;
  return test.command.join(" ");
}

const KIND_OF = { exec: "command", http: "HTTP", tcp: "TCP" } as const;

export function ContainerHealthCard({ container }: { container: TContainerView }) {
  const check = container.healthCheck;
  return (
    <section className="card" aria-labelledby="health-heading" data-testid="health-card">
      <h2 id="health-heading">Health check</h2>
      {!check ? (
        <p className="muted">None: the container counts as fine while it runs.</p>
      ) : (
        <>
          <dl className="facts">
            <dt>Health</dt>
            <dd>
              {container.health ? (
                <StatusBadge status={container.health} />
              ) : (
                <span className="muted">
                  {container.actualState === "running" ? "not reported yet" : "checked only while running"}
                </span>
              )}
              {container.healthChangedAt ? (
                <span className="muted" title={formatDateTime(container.healthChangedAt)}>
                  {" "}
                  since {formatRelative(container.healthChangedAt)}
                </span>
              ) : null}
            </dd>
            <dt>Check</dt>
            <dd>
              <span className="muted">{KIND_OF[check.test.type]}: </span>
              <span className="mono" data-testid="health-test">
                {healthTestText(check)}
              </span>
            </dd>
            <dt>Timing</dt>
            <dd>
              every {formatDuration(check.intervalMs)}, {formatDuration(check.timeoutMs)} to answer, unhealthy
              after {check.retries} failure{check.retries === 1 ? "" : "s"} in a row
              {check.startPeriodMs > 0
                ? `, failures in the first ${formatDuration(check.startPeriodMs)} not counted`
                : ""}
            </dd>
            <dt>When unhealthy</dt>
            <dd>{check.restartOnUnhealthy ? "restarted" : <span className="muted">left running</span>}</dd>
          </dl>
          {container.healthMessage ? (
            <div className="section">
              <div className="muted">Last failing check</div>
              <pre className={styles.healthOutput} data-testid="health-message">
                {container.healthMessage}
              </pre>
            </div>
          ) : null}
        </>
      )}
    </section>
  );
}
