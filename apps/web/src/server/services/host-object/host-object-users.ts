// Which not-removed containers use a host's objects (volumes, networks), and
// the objects as the API shows them, with those users. A container's spec is
// JSON; the kind says which names in it are objects it uses (a volume mount's
// source, a network).
import type { Prisma, PrismaClient } from "../../db/client";
import type { THostObjectItem, THostObjectKindBase } from "./host-object-kind";

export interface THostObjectUser {
  id: string;
  name: string;
  desiredState: "running" | "stopped";
}

type TQueryClient = Pick<PrismaClient, "$queryRaw"> | Pick<Prisma.TransactionClient, "$queryRaw">;

interface TUserRow {
  object_id: string;
  id: string;
  name: string;
  desired_state: "running" | "stopped";
}

/** The users of each object row, by row id; ids without users are absent. */
export async function hostObjectUsers(options: {
  db: TQueryClient;
  kind: THostObjectKindBase;
  ids: readonly string[];
}): Promise<Map<string, THostObjectUser[]>> {
  const { db, kind, ids } = options;
  const byObject = new Map<string, THostObjectUser[]>();
  if (ids.length === 0) return byObject;
  const rows = await db.$queryRaw<TUserRow[]>`
    SELECT o.id AS object_id, c.id, c.name, c.desired_state::text AS desired_state
    FROM ${kind.sql.table} o
    JOIN containers c ON c.host_id = o.host_id AND c.removed_at IS NULL AND c.desired_state <> 'removed'
      AND o.name IN (SELECT u.name FROM (${kind.sql.usedNames}) u)
    WHERE o.id = ANY(${[...ids]}::text[])
    ORDER BY c.name, c.id`;
  for (const row of rows) {
    const users = byObject.get(row.object_id) ?? [];
    users.push({ id: row.id, name: row.name, desiredState: row.desired_state });
    byObject.set(row.object_id, users);
  }
  return byObject;
}

/**
 * Containers on the object's host that use it, were removed here, and that
 * the agent has not yet reported gone: the engine still holds them for a
 * moment, so it refuses to remove the object meanwhile.
 */
async function usersBeingRemoved(options: { db: TQueryClient; kind: THostObjectKindBase; id: string }) {
  const { db, kind, id } = options;
  const rows = await db.$queryRaw<{ name: string }[]>`
    SELECT c.name FROM ${kind.sql.table} o
    JOIN containers c ON c.host_id = o.host_id AND c.desired_state = 'removed' AND c.actual_state <> 'removed'
      AND o.name IN (SELECT u.name FROM (${kind.sql.usedNames}) u)
    WHERE o.id = ${id}
    ORDER BY c.name`;
  return rows.map((row) => row.name);
}

/** The engine refused to remove the object because something still uses it: say what, in words. */
export async function engineInUseMessage(options: {
  db: TQueryClient;
  kind: THostObjectKindBase;
  id: string;
  name: string;
  hostName: string;
  engineMessage: string;
}): Promise<string> {
  const { kind, name, hostName } = options;
  const leaving = await usersBeingRemoved(options);
  if (leaving.length > 0) {
    return `${kind.noun} ${name} on ${hostName} is still used by ${leaving.join(", ")}, which the host is removing: try again in a few seconds`;
  }
  return `${kind.noun} ${name} on ${hostName} is in use by a container Fleet does not manage: ${options.engineMessage}`;
}

/** The names that a not-removed container on the host uses. */
export async function namesInUseOnHost(options: {
  db: TQueryClient;
  kind: THostObjectKindBase;
  hostId: string;
}): Promise<Set<string>> {
  const { db, kind, hostId } = options;
  const rows = await db.$queryRaw<{ name: string }[]>`
    SELECT DISTINCT u.name
    FROM containers c CROSS JOIN LATERAL (${kind.sql.usedNames}) u
    WHERE c.host_id = ${hostId} AND c.removed_at IS NULL`;
  return new Set(rows.map((row) => row.name));
}

/** `volume data on host-a is used by web-1, db-1: remove those containers first` */
export function inUseMessage(
  kind: THostObjectKindBase,
  name: string,
  hostName: string,
  users: THostObjectUser[],
) {
  return `${kind.noun} ${name} on ${hostName} is used by ${users.map((user) => user.name).join(", ")}: remove those containers first`;
}

export type THostObjectView<TItem extends THostObjectItem> = TItem & { usedBy: THostObjectUser[] };

/** Items with the not-removed containers on their host that use each. */
export async function withUsers<TItem extends THostObjectItem>(
  db: TQueryClient,
  kind: THostObjectKindBase,
  items: TItem[],
): Promise<THostObjectView<TItem>[]> {
  const users = await hostObjectUsers({ db, kind, ids: items.map((item) => item.id) });
  return items.map((item) => ({ ...item, usedBy: users.get(item.id) ?? [] }));
}
