"use client";
// Settings → API tokens: programs (the CLI, scripts) authenticate with these.
// A new token's secret is shown once, right after it is made.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { RouterOutputs } from "../api-types";
import { useCan } from "../session";
import { useTRPC } from "../trpc";
import { CopyButton } from "../ui/copy-button";
import { ErrorNote } from "../ui/error-note";
import { RelativeTime } from "../ui/relative-time";
import { StatusBadge } from "../ui/status-badge";
import { useNow } from "../ui/use-now";
import styles from "./settings.module.css";

type TApiToken = RouterOutputs["apiToken"]["list"]["items"][number];

const EXPIRY_CHOICES = [
  { value: "", label: "Never" },
  { value: "7d", label: "7 days" },
  { value: "30d", label: "30 days" },
  { value: "90d", label: "90 days" },
  { value: "365d", label: "1 year" },
] as const;

function tokenState(token: TApiToken, now: number): "active" | "revoked" | "expired" {
  if (token.revokedAt) return "revoked";
  if (token.expiresAt && token.expiresAt.getTime() <= now) return "expired";
  return "active";
}

function TokenRow({ token, now, showOwner }: { token: TApiToken; now: number; showOwner: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const revoke = useMutation(
    trpc.apiToken.revoke.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.apiToken.list.pathKey() }),
    }),
  );
  const state = tokenState(token, now);
  const columns = showOwner ? 8 : 7;
  return (
    <>
      <tr data-api-token-id={token.id}>
        <td>{token.name}</td>
        <td className="mono nowrap">{token.prefix}</td>
        {showOwner ? <td className="muted">{token.userEmail}</td> : null}
        <td className="nowrap">
          <RelativeTime date={token.createdAt} now={now} />
        </td>
        <td className="nowrap">
          <RelativeTime date={token.lastUsedAt} now={now} never="never" />
        </td>
        <td className="nowrap">
          <RelativeTime date={token.expiresAt} now={now} future never="never" />
        </td>
        <td className="nowrap">
          <StatusBadge status={state} />
          {token.revokedAt ? (
            <span className="muted">
              {" "}
              <RelativeTime date={token.revokedAt} now={now} />
            </span>
          ) : null}
        </td>
        <td className="actions">
          {token.revokedAt ? null : (
            <button
              type="button"
              className="button-small danger"
              disabled={revoke.isPending}
              aria-label={`Revoke ${token.name}`}
              onClick={() => {
                if (
                  !window.confirm(
                    `Revoke the API token "${token.name}"? Programs using it stop working at once.`,
                  )
                )
                  return;
                revoke.mutate({ id: token.id });
              }}
            >
              Revoke
            </button>
          )}
        </td>
      </tr>
      {revoke.error ? (
        <tr className={styles.errorRow}>
          <td colSpan={columns}>
            <ErrorNote error={revoke.error} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

function CreateToken() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [expiresIn, setExpiresIn] = useState<string>("");
  const create = useMutation(
    trpc.apiToken.create.mutationOptions({
      onSuccess: () => {
        setName("");
        return queryClient.invalidateQueries({ queryKey: trpc.apiToken.list.pathKey() });
      },
    }),
  );
  return (
    <div className="card">
      <form
        className={styles.joinForm}
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate({ name, ...(expiresIn ? { expiresIn } : {}) });
        }}
      >
        <label>
          Name
          <input
            value={name}
            onChange={(event) => setName(event.target.value)}
            placeholder="ci-deploy"
            required
            maxLength={100}
            autoComplete="off"
          />
        </label>
        <label>
          Expires
          <select value={expiresIn} onChange={(event) => setExpiresIn(event.target.value)}>
            {EXPIRY_CHOICES.map((choice) => (
              <option key={choice.value} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary" disabled={create.isPending || name.trim() === ""}>
          Create token
        </button>
      </form>
      <ErrorNote error={create.error} />
      {create.data ? (
        <div className={styles.secret}>
          <p>
            <strong>Copy the token “{create.data.apiToken.name}” now: it will not be shown again.</strong>
          </p>
          <pre className="command" data-testid="new-api-token">
            {create.data.token}
          </pre>
          <div className="row">
            <CopyButton text={create.data.token} />
            <span className="muted">
              Send it as <code>Authorization: Bearer …</code>
            </span>
            <span className="spacer" />
            <button type="button" className="button-small" onClick={() => create.reset()}>
              Done
            </button>
          </div>
        </div>
      ) : null}
    </div>
  );
}

export function ApiTokensSection() {
  const trpc = useTRPC();
  const isAdmin = useCan("admin");
  const now = useNow();
  const [everyone, setEveryone] = useState(false);
  const showOwner = isAdmin && everyone;
  const tokens = useQuery(trpc.apiToken.list.queryOptions({ all: showOwner }));
  const items = tokens.data?.items ?? [];
  return (
    <section className="section" aria-labelledby="settings-api-tokens">
      <div className={styles.sectionHead}>
        <h2 id="settings-api-tokens">API tokens</h2>
        <span className="muted">For the CLI and scripts; a token acts with its owner's role.</span>
        <span className="spacer" />
        {isAdmin ? (
          <label className={styles.inlineCheck}>
            <input
              type="checkbox"
              checked={everyone}
              onChange={(event) => setEveryone(event.target.checked)}
            />
            Everyone's tokens
          </label>
        ) : null}
      </div>
      <CreateToken />
      <ErrorNote error={tokens.error} />
      <div className="section">
        {tokens.isPending ? (
          <p className="muted">Loading…</p>
        ) : items.length === 0 ? (
          <p className="muted">No API tokens yet.</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Prefix</th>
                  {showOwner ? <th scope="col">Owner</th> : null}
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Status</th>
                  <th scope="col" aria-label="Actions" />
                </tr>
              </thead>
              <tbody>
                {items.map((token) => (
                  <TokenRow key={token.id} token={token} now={now} showOwner={showOwner} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </section>
  );
}
