"use client";
// Settings → Hosts: mint a join token and show the one command that makes a
// new host join with it; below, the recent tokens and what became of them.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { formatDateTime, formatRelative } from "../format";
import { useCan } from "../session";
import { useTRPC } from "../trpc";
import { CopyButton } from "../ui/copy-button";
import { ErrorNote } from "../ui/error-note";
import { RelativeTime } from "../ui/relative-time";
import { StatusBadge } from "../ui/status-badge";
import { useNow } from "../ui/use-now";
import { parseLabelsText } from "./parse-labels-text";
import styles from "./settings.module.css";

const TTL_CHOICES = [
  { value: "15m", label: "15 minutes" },
  { value: "1h", label: "1 hour" },
  { value: "24h", label: "24 hours" },
] as const;

const RECENT_TOKENS = 10;

function JoinTokens() {
  const trpc = useTRPC();
  const now = useNow();
  const tokens = useQuery(trpc.joinToken.list.queryOptions({}, { refetchInterval: 15_000 }));
  const [showAll, setShowAll] = useState(false);
  const items = tokens.data?.items ?? [];
  const shown = showAll ? items : items.slice(0, RECENT_TOKENS);
  return (
    <>
      <h3 className={styles.subheading}>Recent join tokens</h3>
      <ErrorNote error={tokens.error} />
      {tokens.isPending ? (
        <p className="muted">Loading…</p>
      ) : items.length === 0 ? (
        <p className="muted">No join tokens yet.</p>
      ) : (
        <>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Created</th>
                  <th scope="col">State</th>
                  <th scope="col">Labels</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Used by</th>
                  <th scope="col">Created by</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((token) => (
                  <tr key={token.id} data-join-token-id={token.id}>
                    <td className="nowrap">
                      <RelativeTime date={token.createdAt} now={now} />
                    </td>
                    <td>
                      <StatusBadge status={token.state} />
                    </td>
                    <td>
                      {Object.keys(token.labels).length === 0 ? (
                        <span className="muted">—</span>
                      ) : (
                        Object.entries(token.labels).map(([key, value]) => (
                          <span key={key} className="label-chip">
                            {key}={value}
                          </span>
                        ))
                      )}
                    </td>
                    <td className="nowrap">
                      {token.state === "used" ? (
                        <span className="muted">—</span>
                      ) : (
                        <RelativeTime date={token.expiresAt} now={now} future />
                      )}
                    </td>
                    <td className="nowrap">
                      {token.usedByHostId ? (
                        <>
                          <Link href={`/hosts/${token.usedByHostId}`}>{token.usedByHostName ?? "host"}</Link>{" "}
                          <span className="muted">
                            <RelativeTime date={token.usedAt} now={now} />
                          </span>
                        </>
                      ) : token.usedAt ? (
                        <span className="muted">a removed host</span>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td className="muted">{token.createdByEmail}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {items.length > RECENT_TOKENS ? (
            <div className="pager">
              <button type="button" className="button-small" onClick={() => setShowAll((value) => !value)}>
                {showAll ? "Show recent only" : `Show all ${items.length}`}
              </button>
            </div>
          ) : null}
        </>
      )}
    </>
  );
}

function AddHost() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const now = useNow(5_000);
  const [labelsText, setLabelsText] = useState("");
  const [ttl, setTtl] = useState<string>("1h");
  const [labelsError, setLabelsError] = useState<string | null>(null);
  const create = useMutation(
    trpc.joinToken.create.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.joinToken.list.queryKey() }),
    }),
  );
  const result = create.data;
  const expired = result ? result.expiresAt.getTime() <= now : false;

  return (
    <div className="card">
      <p className={styles.intro}>
        Paste the line on the new host (Linux x86_64 with Docker or Podman, curl and sudo). It installs the
        agent from this central, pinned to its key, and starts it; run it again to upgrade. The token in it
        works once and expires.
      </p>
      <form
        className={styles.joinForm}
        onSubmit={(event) => {
          event.preventDefault();
          let labels: Record<string, string>;
          try {
            labels = parseLabelsText(labelsText);
          } catch (error) {
            setLabelsError(error instanceof Error ? error.message : String(error));
            return;
          }
          setLabelsError(null);
          create.mutate({ ttl, labels });
        }}
      >
        <label>
          Labels (optional)
          <input
            value={labelsText}
            onChange={(event) => setLabelsText(event.target.value)}
            placeholder="zone=eu-1, disk=ssd"
            spellCheck={false}
            autoComplete="off"
          />
        </label>
        <label>
          Token valid for
          <select value={ttl} onChange={(event) => setTtl(event.target.value)}>
            {TTL_CHOICES.map((choice) => (
              <option key={choice.value} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Add host"}
        </button>
      </form>
      {labelsError ? (
        <p role="alert" className="error-note">
          {labelsError}
        </p>
      ) : null}
      <ErrorNote error={create.error} />
      {result ? (
        <div className={styles.result}>
          <p className="muted">On the new host, run:</p>
          <pre className="command" data-testid="join-command">
            {result.command}
          </pre>
          <div className="row">
            <CopyButton text={result.command} />
            <span className={expired ? "error-note" : "muted"} title={formatDateTime(result.expiresAt)}>
              {expired
                ? "Expired: add the host again for a new command."
                : `Expires ${formatRelative(result.expiresAt, now)}`}
            </span>
          </div>
        </div>
      ) : null}
    </div>
  );
}

export function HostsSection() {
  const isAdmin = useCan("admin");
  return (
    <section className="section" aria-labelledby="settings-hosts">
      <h2 id="settings-hosts">Hosts</h2>
      {isAdmin ? (
        <>
          <AddHost />
          <JoinTokens />
        </>
      ) : (
        <p className="notice">Only an administrator can add hosts.</p>
      )}
    </section>
  );
}
