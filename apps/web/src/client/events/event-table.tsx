"use client";
// The event log as a dense table, newest first: when (relative, exact on
// hover), severity, kind, message, and links to the host and container.
import Link from "next/link";
import type { TEventView } from "../api-types";
import { RelativeTime } from "../ui/relative-time";
import { StatusBadge } from "../ui/status-badge";
import { useNow } from "../ui/use-now";
import styles from "./events.module.css";
import { useSubjectNames } from "./use-subject-names";

export function EventTable({
  events,
  freshIds,
  showHost = true,
  showContainer = true,
}: {
  events: readonly TEventView[];
  /** Ids of rows that arrived live, to mark them. */
  freshIds?: ReadonlySet<string>;
  showHost?: boolean;
  showContainer?: boolean;
}) {
  const now = useNow();
  const names = useSubjectNames(events);
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Severity</th>
            <th scope="col">Kind</th>
            <th scope="col">Message</th>
            {showHost ? <th scope="col">Host</th> : null}
            {showContainer ? <th scope="col">Container</th> : null}
          </tr>
        </thead>
        <tbody>
          {events.map((event) => {
            const hostName = event.hostId ? names.hostName(event.hostId) : undefined;
            const containerName = event.containerId ? names.containerName(event.containerId) : undefined;
            return (
              <tr
                key={event.id}
                data-event-id={event.id}
                data-kind={event.kind}
                className={freshIds?.has(event.id) ? styles.fresh : undefined}
              >
                <td className="nowrap">
                  <RelativeTime date={event.ts} now={now} />
                </td>
                <td>
                  <StatusBadge status={event.severity} testId="event-severity" />
                </td>
                <td className={`mono ${styles.kind}`} data-testid="event-kind">
                  {event.kind}
                </td>
                <td className={styles.message}>{event.message}</td>
                {showHost ? (
                  <td className="nowrap">
                    {event.hostId ? (
                      <Link href={`/hosts/${event.hostId}`} title={event.hostId}>
                        {hostName ?? "host"}
                      </Link>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                ) : null}
                {showContainer ? (
                  <td className="nowrap">
                    {event.containerId ? (
                      <Link href={`/containers/${event.containerId}`} title={event.containerId}>
                        {containerName ?? "container"}
                      </Link>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                ) : null}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
