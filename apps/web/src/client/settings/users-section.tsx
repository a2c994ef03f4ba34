"use client";
// Settings → Users (administrators only): who may sign in, with which role.
// The server refuses to remove or demote the last administrator and to
// remove one's own account; its reason shows on the row.
import type { TUserRole } from "@fleet/shared/domain/roles";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { RouterOutputs } from "../api-types";
import { formatDateTime } from "../format";
import { useSessionUser } from "../session";
import { useTRPC } from "../trpc";
import { ErrorNote } from "../ui/error-note";
import { RelativeTime } from "../ui/relative-time";
import { StatusBadge } from "../ui/status-badge";
import { useNow } from "../ui/use-now";
import styles from "./settings.module.css";

type TUser = RouterOutputs["user"]["list"]["items"][number];

const ROLES: readonly TUserRole[] = ["admin", "operator", "viewer"];
const MIN_PASSWORD_LENGTH = 10;

function useInvalidateUsers() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useSessionUser();
  return (changedId: string) => {
    void queryClient.invalidateQueries({ queryKey: trpc.user.list.queryKey() });
    // A change to one's own account changes what the dashboard shows and allows.
    if (changedId === me.id) void queryClient.invalidateQueries({ queryKey: trpc.auth.me.queryKey() });
  };
}

function UserRow({ user, now }: { user: TUser; now: number }) {
  const trpc = useTRPC();
  const me = useSessionUser();
  const invalidate = useInvalidateUsers();
  const update = useMutation(trpc.user.update.mutationOptions({ onSettled: () => invalidate(user.id) }));
  const remove = useMutation(trpc.user.remove.mutationOptions({ onSettled: () => invalidate(user.id) }));
  const busy = update.isPending || remove.isPending;
  const isMe = user.id === me.id;
  const error = update.error ?? remove.error;
  return (
    <>
      <tr data-user-id={user.id}>
        <td>
          {user.name}
          {isMe ? <span className="muted"> (you)</span> : null}
        </td>
        <td>{user.email}</td>
        <td>
          <select
            className={styles.roleSelect}
            aria-label={`Role of ${user.email}`}
            value={user.role}
            disabled={busy}
            onChange={(event) => {
              remove.reset();
              update.mutate({ id: user.id, role: event.target.value as TUserRole });
            }}
          >
            {ROLES.map((role) => (
              <option key={role} value={role}>
                {role}
              </option>
            ))}
          </select>
        </td>
        <td className="nowrap">
          <RelativeTime date={user.createdAt} now={now} />
        </td>
        <td className="nowrap">
          {user.disabledAt ? (
            <span title={`Disabled ${formatDateTime(user.disabledAt)}`}>
              <StatusBadge status="disabled" />
            </span>
          ) : (
            <StatusBadge status="active" />
          )}
        </td>
        <td className="actions">
          <button
            type="button"
            className="button-small"
            disabled={busy}
            aria-label={`${user.disabledAt ? "Enable" : "Disable"} ${user.email}`}
            onClick={() => {
              remove.reset();
              // Reversible (Enable), so no confirmation, as with stopping a container.
              update.mutate({ id: user.id, disabled: !user.disabledAt });
            }}
          >
            {user.disabledAt ? "Enable" : "Disable"}
          </button>
          <button
            type="button"
            className="button-small danger"
            disabled={busy}
            aria-label={`Remove ${user.email}`}
            onClick={() => {
              update.reset();
              if (!window.confirm(`Remove the user ${user.email}? Their API tokens are deleted too.`)) return;
              remove.mutate({ id: user.id });
            }}
          >
            Remove
          </button>
        </td>
      </tr>
      {error ? (
        <tr className={styles.errorRow}>
          <td colSpan={6}>
            <ErrorNote error={error} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

function CreateUser() {
  const trpc = useTRPC();
  const invalidate = useInvalidateUsers();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<TUserRole>("viewer");
  const [password, setPassword] = useState("");
  const create = useMutation(
    trpc.user.create.mutationOptions({
      onSuccess: (user) => {
        setEmail("");
        setName("");
        setPassword("");
        setRole("viewer");
        invalidate(user.id);
      },
    }),
  );
  return (
    <form
      className="card"
      aria-label="Add a user"
      onSubmit={(event) => {
        event.preventDefault();
        create.mutate({ email, name, role, password });
      }}
    >
      <div className="form-grid">
        <label>
          Email
          <input
            type="email"
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            required
            autoComplete="off"
          />
        </label>
        <label>
          Name
          <input value={name} onChange={(event) => setName(event.target.value)} required autoComplete="off" />
        </label>
        <label>
          Role
          <select value={role} onChange={(event) => setRole(event.target.value as TUserRole)}>
            {ROLES.map((choice) => (
              <option key={choice} value={choice}>
                {choice}
              </option>
            ))}
          </select>
        </label>
        <label>
          Password
          <input
            type="password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            required
            minLength={MIN_PASSWORD_LENGTH}
            autoComplete="new-password"
            placeholder={`at least ${MIN_PASSWORD_LENGTH} characters`}
          />
        </label>
      </div>
      <div className={`row ${styles.formActions}`}>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create user
        </button>
        {create.isSuccess ? <span className="muted">Created {create.data.email}.</span> : null}
      </div>
      <ErrorNote error={create.error} />
    </form>
  );
}

export function UsersSection() {
  const trpc = useTRPC();
  const now = useNow();
  const users = useQuery(trpc.user.list.queryOptions());
  const items = users.data?.items ?? [];
  return (
    <section className="section" aria-labelledby="settings-users">
      <div className={styles.sectionHead}>
        <h2 id="settings-users">Users</h2>
        <span className="muted">
          Viewers see; operators also run and stop containers; admins also manage hosts and users.
        </span>
      </div>
      <CreateUser />
      <ErrorNote error={users.error} />
      <div className="section">
        {users.isPending ? (
          <p className="muted">Loading…</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Created</th>
                  <th scope="col">Status</th>
                  <th scope="col" aria-label="Actions" />
                </tr>
              </thead>
              <tbody>
                {items.map((user) => (
                  <UserRow key={user.id} user={user} now={now} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </section>
  );
}
