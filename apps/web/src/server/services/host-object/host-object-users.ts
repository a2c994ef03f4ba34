// Which not-removed containers use a host's volumes or networks. A container's
// spec is JSON; jsonb containment finds the ones mounting a volume
// (`spec->'mounts' @> [{"type":"volume","source":name}]`) or joining a network
// (`spec->'networks' @> [name]`) on the same host.
import type { Prisma, PrismaClient } from "../../db/client";

export interface THostObjectUser {
  id: string;
  name: string;
  desiredState: "running" | "stopped";
}

type TQueryClient = Pick<PrismaClient, "$queryRaw"> | Pick<Prisma.TransactionClient, "$queryRaw">;

export type THostObjectKind = "volume" | "network";

interface TUserRow {
  object_id: string;
  id: string;
  name: string;
  desired_state: "running" | "stopped";
}

/** The users of each volume (or network) row, by row id; ids without users are absent. */
export async function hostObjectUsers(options: {
  db: TQueryClient;
  kind: THostObjectKind;
  ids: readonly string[];
}): Promise<Map<string, THostObjectUser[]>> {
  const { db, kind, ids } = options;
  const byObject = new Map<string, THostObjectUser[]>();
  if (ids.length === 0) return byObject;
  const rows =
    kind === "volume"
      ? await db.$queryRaw<TUserRow[]>`
          SELECT v.id AS object_id, c.id, c.name, c.desired_state::text AS desired_state
          FROM host_volumes v
          JOIN containers c ON c.host_id = v.host_id AND c.removed_at IS NULL AND c.desired_state <> 'removed'
            AND c.spec->'mounts' @> jsonb_build_array(jsonb_build_object('type', 'volume', 'source', v.name))
          WHERE v.id = ANY(${[...ids]}::text[])
          ORDER BY c.name, c.id`
      : await db.$queryRaw<TUserRow[]>`
          SELECT n.id AS object_id, c.id, c.name, c.desired_state::text AS desired_state
          FROM host_networks n
          JOIN containers c ON c.host_id = n.host_id AND c.removed_at IS NULL AND c.desired_state <> 'removed'
            AND c.spec->'networks' @> jsonb_build_array(n.name)
          WHERE n.id = ANY(${[...ids]}::text[])
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
 * moment, so it refuses to remove the volume (or network) meanwhile.
 */
export async function usersBeingRemoved(options: {
  db: TQueryClient;
  kind: THostObjectKind;
  id: string;
}): Promise<string[]> {
  const { db, kind, id } = options;
  const rows =
    kind === "volume"
      ? await db.$queryRaw<{ name: string }[]>`
          SELECT c.name FROM host_volumes v
          JOIN containers c ON c.host_id = v.host_id AND c.desired_state = 'removed' AND c.actual_state <> 'removed'
            AND c.spec->'mounts' @> jsonb_build_array(jsonb_build_object('type', 'volume', 'source', v.name))
          WHERE v.id = ${id}
          ORDER BY c.name`
      : await db.$queryRaw<{ name: string }[]>`
          SELECT c.name FROM host_networks n
          JOIN containers c ON c.host_id = n.host_id AND c.desired_state = 'removed' AND c.actual_state <> 'removed'
            AND c.spec->'networks' @> jsonb_build_array(n.name)
          WHERE n.id = ${id}
          ORDER BY c.name`;
  return rows.map((row) => row.name);
}

/** The engine refused to remove the object because something still uses it: say what, in words. */
export async function engineInUseMessage(options: {
  db: TQueryClient;
  kind: THostObjectKind;
  id: string;
  name: string;
  hostName: string;
  engineMessage: string;
}): Promise<string> {
  const { kind, name, hostName } = options;
  const leaving = await usersBeingRemoved(options);
  if (leaving.length > 0) {
    return `${kind} ${name} on ${hostName} is still used by ${leaving.join(", ")}, which the host is removing: try again in a few seconds`;
  }
  return `${kind} ${name} on ${hostName} is in use by a container Fleet does not manage: ${options.engineMessage}`;
}

/** The names that a not-removed container on the host mounts (or joins). */
export async function namesInUseOnHost(options: {
  db: TQueryClient;
  kind: THostObjectKind;
  hostId: string;
}): Promise<Set<string>> {
  const { db, kind, hostId } = options;
  const rows =
    kind === "volume"
      ? await db.$queryRaw<{ name: string }[]>`
          SELECT DISTINCT m->>'source' AS name
          FROM containers c, jsonb_array_elements(CASE WHEN jsonb_typeof(c.spec->'mounts') = 'array'
                                                     THEN c.spec->'mounts' ELSE '[]'::jsonb END) m
          WHERE c.host_id = ${hostId} AND c.removed_at IS NULL AND m->>'type' = 'volume'`
      : await db.$queryRaw<{ name: string }[]>`
          SELECT DISTINCT n #>> '{}' AS name
          FROM containers c, jsonb_array_elements(CASE WHEN jsonb_typeof(c.spec->'networks') = 'array'
                                                     THEN c.spec->'networks' ELSE '[]'::jsonb END) n
          WHERE c.host_id = ${hostId} AND c.removed_at IS NULL`;
  return new Set(rows.map((row) => row.name));
}

/** `volume data on host-a is used by web-1, db-1: remove those containers first` */
export function inUseMessage(
  kind: THostObjectKind,
  name: string,
  hostName: string,
  users: THostObjectUser[],
) {
  return `${kind} ${name} on ${hostName} is used by ${users.map((user) => user.name).join(", ")}: remove those containers first`;
}
