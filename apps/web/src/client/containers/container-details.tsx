"use client";
// The read-only parts of the container page: what it was asked to run, where
// it was put and why, and what happened to it.
import { formatPortMapping } from "@fleet/shared/domain/container-spec";
import Link from "next/link";
import type { RouterOutputs, TContainerView } from "../api-types";
import {
  formatBytes,
  formatDateTime,
  formatDigest,
  formatMillicores,
  formatMs,
  formatRelative,
} from "../format";
import { CopyButton } from "../ui/copy-button";
import { StatusBadge } from "../ui/status-badge";
import styles from "./containers.module.css";

type TContainerEvent = RouterOutputs["container"]["get"]["events"][number];

function None() {
  return <span className="muted">none</span>;
}

function Chips({ items }: { items: string[] }) {
  if (items.length === 0) return <None />;
  return (
    <span className={styles.chips}>
      {items.map((item) => (
        <span key={item} className="label-chip">
          {item}
        </span>
      ))}
    </span>
  );
}

/** A command as a shell would show it: words with spaces or quotes are quoted. */
function shellWords(words: string[]): string {
  return words
    .map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`))
    .join(" ");
}

export function ContainerSpecCard({ container }: { container: TContainerView }) {
  const labels = Object.entries(container.labels).map(([key, value]) => `${key}=${value}`);
  return (
    <section className="card" aria-labelledby="spec-heading">
      <h2 id="spec-heading">Spec</h2>
      <dl className="facts">
        <dt>Image</dt>
        <dd className="mono">{container.image}</dd>
        <dt>Digest</dt>
        <dd className="row">
          <span
            className="mono"
            data-testid="image-digest"
            title={container.imageDigest ?? "not reported yet"}
          >
            {formatDigest(container.imageDigest)}
          </span>
          {container.imageDigest ? <CopyButton text={container.imageDigest} label="Copy digest" /> : null}
        </dd>
        <dt>Command</dt>
        <dd className="mono">
          {container.command ? shellWords(container.command) : <span className="muted">image default</span>}
        </dd>
        <dt>Environment</dt>
        <dd>
          <Chips items={container.envKeys} />
          {container.envKeys.length > 0 ? (
            <div className="muted">Names only: values are not shown.</div>
          ) : null}
        </dd>
        <dt>Ports</dt>
        <dd>
          <Chips items={container.ports.map(formatPortMapping)} />
        </dd>
        <dt>Labels</dt>
        <dd>
          <Chips items={labels} />
        </dd>
        <dt>Restart policy</dt>
        <dd className="mono">{container.restartPolicy}</dd>
        {container.deploymentId ? (
          <>
            <dt>Deployment</dt>
            <dd>
              <Link href={`/deployments/${encodeURIComponent(container.deploymentId)}`}>
                {container.deploymentName ?? container.deploymentId}
              </Link>
              {container.replicaIndex !== null ? (
                <span className="muted"> · replica {container.replicaIndex}</span>
              ) : null}
            </dd>
          </>
        ) : null}
        <dt>Engine id</dt>
        <dd className="mono">
          {container.engineId ? container.engineId.slice(0, 12) : <span className="muted">—</span>}
        </dd>
      </dl>
    </section>
  );
}

type TMountView = TContainerView["mounts"][number];

/** Where a volume mount's row links: that volume on the container's host. */
function volumeHref(container: TContainerView, name: string): string {
  const params = new URLSearchParams({ name });
  if (container.hostId) params.set("host", container.hostId);
  return `/volumes?${params.toString()}`;
}

function MountSource({ container, mount }: { container: TContainerView; mount: TMountView }) {
  if (mount.type === "tmpfs") return <span className="muted">memory</span>;
  if (mount.type === "bind") return <span className="mono">{mount.source}</span>;
  return (
    <Link href={volumeHref(container, mount.source)} className="mono">
      {mount.source}
    </Link>
  );
}

/** Mounts, networks and the addresses its published ports answer on. */
export function ContainerMountsCard({ container }: { container: TContainerView }) {
  const networkHref = (name: string) => {
    const params = new URLSearchParams({ name });
    if (container.hostId) params.set("host", container.hostId);
    return `/networks?${params.toString()}`;
  };
  return (
    <section className="card" aria-labelledby="mounts-heading">
      <h2 id="mounts-heading">Mounts and networks</h2>
      {container.mounts.length === 0 ? (
        <p className="muted">No mounts: what it writes goes with the container.</p>
      ) : (
        <div className="table-wrap">
          <table aria-label="Mounts" data-testid="mounts">
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col">Source</th>
                <th scope="col">Target</th>
                <th scope="col">Read-only</th>
                <th scope="col" className="num">
                  Size
                </th>
              </tr>
            </thead>
            <tbody>
              {container.mounts.map((mount) => (
                // The engine refuses two mounts at one target, so the target names the row.
                <tr key={mount.target}>
                  <td>{mount.type}</td>
                  <td>
                    <MountSource container={container} mount={mount} />
                  </td>
                  <td className="mono">{mount.target}</td>
                  <td>
                    {mount.type !== "tmpfs" && mount.readOnly ? "yes" : <span className="muted">no</span>}
                  </td>
                  <td className="num nowrap">
                    {mount.type === "tmpfs" ? formatBytes(mount.sizeBytes) : <span className="muted">—</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <dl className="facts section">
        <dt>Networks</dt>
        <dd>
          {container.networks.length === 0 ? (
            <span className="muted">the engine&apos;s default only</span>
          ) : (
            <span className={styles.chips}>
              {container.networks.map((name) => (
                <Link key={name} href={networkHref(name)} className="label-chip">
                  {name}
                </Link>
              ))}
            </span>
          )}
        </dd>
        <dt>Reachable at</dt>
        <dd>
          {container.published.length > 0 ? (
            <ul className={styles.addresses} data-testid="reachable-at">
              {container.published.map((port) => (
                <li key={`${port.address}-${port.containerPort}-${port.protocol}`} className="mono">
                  {port.address} → {port.containerPort}/{port.protocol}
                </li>
              ))}
            </ul>
          ) : container.ports.length > 0 ? (
            <span className="muted">its ports show here once the host reports them bound</span>
          ) : (
            <span className="muted">no published ports</span>
          )}
        </dd>
      </dl>
    </section>
  );
}

export function ContainerPlacementCard({ container }: { container: TContainerView }) {
  const { resources } = container;
  return (
    <section className="card" aria-labelledby="placement-heading">
      <h2 id="placement-heading">Placement and resources</h2>
      <dl className="facts">
        <dt>Host</dt>
        <dd>
          {container.hostId ? (
            <Link href={`/hosts/${container.hostId}`}>{container.hostName ?? container.hostId}</Link>
          ) : (
            <span className="muted">none: waiting for a host with room</span>
          )}
        </dd>
        <dt>Why there</dt>
        <dd>{container.placementReason || <None />}</dd>
        <dt>Strategy</dt>
        <dd>{container.strategy}</dd>
        <dt>Constraints</dt>
        <dd className="mono">{container.constraints || <None />}</dd>
      </dl>
      <table className={styles.limits} aria-label="Requests and limits">
        <thead>
          <tr>
            <th scope="col" />
            <th scope="col" className="num">
              Request (reserved)
            </th>
            <th scope="col" className="num">
              Limit (enforced)
            </th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">CPU</th>
            <td className="num">{formatMillicores(resources.cpuRequestMillis)} cores</td>
            <td className="num">
              {resources.cpuLimitMillis === null ? (
                <None />
              ) : (
                `${formatMillicores(resources.cpuLimitMillis)} cores`
              )}
            </td>
          </tr>
          <tr>
            <th scope="row">Memory</th>
            <td className="num">{formatBytes(resources.memoryRequestBytes)}</td>
            <td className="num">
              {resources.memoryLimitBytes === null ? <None /> : formatBytes(resources.memoryLimitBytes)}
            </td>
          </tr>
          <tr>
            <th scope="row">Pids</th>
            <td className="num">{resources.pidsRequest}</td>
            <td className="num">{resources.pidsLimit ?? <None />}</td>
          </tr>
        </tbody>
      </table>
      <dl className="facts section">
        <dt>Requested</dt>
        <dd>{formatDateTime(container.requestedAt)}</dd>
        <dt>Scheduled</dt>
        <dd>{formatDateTime(container.scheduledAt)}</dd>
        <dt>Started</dt>
        <dd>{formatDateTime(container.startedAt)}</dd>
        <dt>Start latency</dt>
        <dd>
          {formatMs(container.startLatencyMs)}
          <span className="muted"> (request to running)</span>
        </dd>
        {container.finishedAt ? (
          <>
            <dt>Finished</dt>
            <dd>{formatDateTime(container.finishedAt)}</dd>
          </>
        ) : null}
      </dl>
    </section>
  );
}

export function ContainerHistory({ events }: { events: readonly TContainerEvent[] }) {
  return (
    <section className="card" aria-labelledby="history-heading">
      <h2 id="history-heading">State history</h2>
      {events.length === 0 ? (
        <p className="muted">Nothing recorded yet.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Severity</th>
                <th scope="col">Event</th>
                <th scope="col">Message</th>
              </tr>
            </thead>
            <tbody>
              {events.map((event) => (
                <tr key={event.id}>
                  <td className="nowrap" title={formatDateTime(event.ts)}>
                    {formatRelative(event.ts)}
                  </td>
                  <td>
                    <StatusBadge status={event.severity} />
                  </td>
                  <td className="mono nowrap">{event.kind}</td>
                  <td>{event.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
