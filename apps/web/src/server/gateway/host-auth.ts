// `hello` → a host, claimed for this replica's connection. A join token is
// redeemed once: one transaction claims it, creates the host with a fresh
// credential and records the event, so a token can never make two hosts even
// when two agents present it at once. Credential hellos that wait together are
// checked together, in one statement: each host row is updated (online, facts,
// capacity, address) and claimed under a new connection epoch
// (cluster-sync.ts) only where the credential's hash matches and the host is
// not removed, and the events are recorded with it. After a central restart a
// whole fleet says hello at once; at a dozen round trips per hello 2,000
// hosts took 80 s to get back in.
import type { THelloFrame } from "@fleet/shared/protocol/agent-to-server";
import { Prisma, type PrismaClient } from "../db/client";
import type { TEventRow } from "../events/event-view";
import { recordEvent } from "../events/record-event";
import { generateToken, hashToken } from "../tokens";
import { GATEWAY_CLOSE } from "./gateway-limits";
import { capacityFromHello } from "./host-capacity";

export type THelloAuthResult =
  | {
      ok: true;
      hostId: string;
      hostName: string;
      /** Only after a join: the secret the agent presents from now on. */
      credential?: string;
      joined: boolean;
      /** The connection epoch this connection claimed the host with (cluster-sync.ts). */
      epoch: number;
      /** The host was offline before this connection (so it comes back online now). */
      cameOnline: boolean;
      /** Stored events to publish now that the transaction committed. */
      events: TEventRow[];
    }
  | { ok: false; message: string; closeCode: number };

const JOIN_ATTEMPTS = 3;
const MAX_NAME_SUFFIX = 1000;

/** Same answer for an unknown host and a wrong credential: no hint which one it was. */
export const BAD_CREDENTIAL_MESSAGE = "unknown host or wrong credential";

function refused(message: string, closeCode: number = GATEWAY_CLOSE.unauthorized): THelloAuthResult {
  return { ok: false, message, closeCode };
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}

interface HelloAuthOptions {
  db: PrismaClient;
  now: Date;
  /** This replica: the host's connection is claimed for it. */
  replicaId: string;
}

/** One hello of a batch: what was said and where from. */
export interface THelloAttempt {
  hello: THelloFrame;
  /** The peer's address, stored as the host's (null: the socket no longer knew it; the stored one stays). */
  address: string | null;
}

/**
 * Each attempt's outcome, in order. Joins are redeemed one at a time;
 * credential hellos are checked and claimed together, one statement for all
 * of them (a host twice in the batch: once per statement, the later attempt
 * last, so that it holds the newer epoch).
 */
export async function authenticateHellos(
  options: HelloAuthOptions & { attempts: readonly THelloAttempt[] },
): Promise<THelloAuthResult[]> {
  const { attempts, ...rest } = options;
  const results: THelloAuthResult[] = new Array(attempts.length);
  let credentials: number[] = [];
  for (const [i, attempt] of attempts.entries()) {
    const { auth } = attempt.hello;
    if (auth.kind === "join")
      results[i] = await redeemJoinToken({ ...rest, ...attempt, joinToken: auth.joinToken });
    else credentials.push(i);
  }
  while (credentials.length > 0) {
    const hostIds = new Set<string>();
    const first: number[] = [];
    const again: number[] = [];
    for (const i of credentials) {
      const auth = attempts[i]?.hello.auth;
      const hostId = auth?.kind === "credential" ? auth.hostId : "";
      (hostIds.has(hostId) ? again : first).push(i);
      hostIds.add(hostId);
    }
    const outcomes = await checkCredentials({
      ...rest,
      attempts: first.map((i) => attempts[i] as THelloAttempt),
    });
    for (const [k, i] of first.entries()) results[i] = outcomes[k] as THelloAuthResult;
    credentials = again;
  }
  return results;
}

class JoinRefused extends Error {}

async function redeemJoinToken(
  options: HelloAuthOptions & THelloAttempt & { joinToken: string },
): Promise<THelloAuthResult> {
  const { db, hello, now } = options;
  const tokenHash = hashToken(options.joinToken);
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.$transaction(async (tx) => {
        // The conditional update is the claim: of two agents presenting one token, one gets count 1.
        const claimed = await tx.joinToken.updateMany({
          where: { tokenHash, usedAt: null, expiresAt: { gt: now } },
          data: { usedAt: now },
        });
        if (claimed.count !== 1) {
          const token = await tx.joinToken.findUnique({
            where: { tokenHash },
            select: { usedAt: true, expiresAt: true },
          });
          if (!token) throw new JoinRefused("unknown join token");
          if (token.usedAt) throw new JoinRefused("join token already used");
          throw new JoinRefused("join token expired");
        }
        const token = await tx.joinToken.findUniqueOrThrow({
          where: { tokenHash },
          select: { id: true, labels: true },
        });
        const name = await freeHostName(tx, hello.name);
        const credential = generateToken("host");
        const host = await tx.host.create({
          data: {
            name,
            status: "online",
            // The administrator's labels win over the agent's own.
            labels: { ...hello.facts.labels, ...labelsOf(token.labels) },
            facts: hello.facts,
            agentVersion: hello.agentVersion,
            credentialHash: hashToken(credential),
            ...capacityFromHello(hello),
            connectedAt: now,
            lastSeenAt: now,
            connectedReplica: options.replicaId,
            connectionEpoch: 1,
            address: options.address,
          },
          select: { id: true, name: true, connectionEpoch: true },
        });
        await tx.joinToken.update({ where: { id: token.id }, data: { usedByHostId: host.id } });
        const renamed = name === hello.name ? "" : ` (the name "${hello.name}" was taken)`;
        const events = [
          await recordEvent({
            db: tx,
            kind: "host.joined",
            hostId: host.id,
            message: `host ${host.name} joined the fleet${renamed}`,
            data: { joinTokenId: token.id, requestedName: hello.name, agentVersion: hello.agentVersion },
          }),
          await recordEvent({
            db: tx,
            kind: "host.connected",
            hostId: host.id,
            message: `host ${host.name} connected`,
            data: { agentVersion: hello.agentVersion },
          }),
        ];
        return {
          ok: true as const,
          hostId: host.id,
          hostName: host.name,
          credential,
          joined: true,
          epoch: host.connectionEpoch,
          cameOnline: true,
          events,
        };
      });
    } catch (error) {
      if (error instanceof JoinRefused) return refused(error.message);
      // Another agent took the same free name between our read and insert: pick again.
      if (isUniqueViolation(error) && attempt < JOIN_ATTEMPTS) continue;
      throw error;
    }
  }
}

function labelsOf(json: Prisma.JsonValue): Record<string, string> {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return {};
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(json)) if (typeof value === "string") labels[key] = value;
  return labels;
}

/** `name`, or the first of `name-2`, `name-3`, … no host (removed ones included) has. */
async function freeHostName(tx: Prisma.TransactionClient, requested: string): Promise<string> {
  const taken = await tx.host.findMany({
    where: { OR: [{ name: requested }, { name: { startsWith: `${requested}-` } }] },
    select: { name: true },
  });
  const names = new Set(taken.map((host) => host.name));
  if (!names.has(requested)) return requested;
  for (let n = 2; n <= MAX_NAME_SUFFIX; n++) {
    const candidate = `${requested}-${n}`;
    if (!names.has(candidate)) return candidate;
  }
  throw new JoinRefused(`too many hosts are named "${requested}"; start the agent with another name`);
}

/** One row per event recorded, each with what the claim returned. */
interface ClaimedRow extends TEventRow {
  hostName: string;
  epoch: number;
  cameOnline: boolean;
}

/** Credential hellos of distinct hosts, in one statement. */
async function checkCredentials(options: {
  db: PrismaClient;
  attempts: readonly THelloAttempt[];
  now: Date;
  replicaId: string;
}): Promise<THelloAuthResult[]> {
  const { db, now, replicaId } = options;
  const presented = options.attempts.map(({ hello, address }) => {
    if (hello.auth.kind !== "credential") throw new Error("a join among credential hellos");
    return {
      hostId: hello.auth.hostId,
      hash: hashToken(hello.auth.credential),
      facts: JSON.stringify(hello.facts),
      agentVersion: hello.agentVersion,
      address,
      ...capacityFromHello(hello),
    };
  });
  const column = <T>(pick: (p: (typeof presented)[number]) => T): T[] => presented.map(pick);
  // The hashes are compared in the query: timing could only tell how much of a
  // SHA-256 of a random secret someone guessed, which gives no preimage. Rows
  // are locked in id order, as placements and desired pushes lock them, so
  // none of them deadlock. Labels stay as they are: after the join they
  // belong to the administrator.
  const rows = await db.$queryRaw<ClaimedRow[]>`
    WITH presented AS (
      SELECT * FROM unnest(
        ${column((p) => p.hostId)}::text[], ${column((p) => p.hash)}::text[], ${column((p) => p.facts)}::text[],
        ${column((p) => p.agentVersion)}::text[], ${column((p) => p.address)}::text[],
        ${column((p) => p.cpuCapacityMillis)}::int[], ${column((p) => p.memoryCapacityBytes.toString())}::bigint[],
        ${column((p) => p.pidsCapacity)}::int[], ${column((p) => p.cpuAllocatableMillis)}::int[],
        ${column((p) => p.memoryAllocatableBytes.toString())}::bigint[], ${column((p) => p.pidsAllocatable)}::int[]
      ) AS p(id, credential_hash, facts, agent_version, address, cpu_capacity_millis, memory_capacity_bytes,
             pids_capacity, cpu_allocatable_millis, memory_allocatable_bytes, pids_allocatable)
    ), locked AS (
      SELECT h.id, h.status FROM hosts h JOIN presented p ON p.id = h.id
      WHERE h.removed_at IS NULL AND h.credential_hash = p.credential_hash
      ORDER BY h.id FOR UPDATE OF h
    ), claimed AS (
      UPDATE hosts h SET
        status = 'online', facts = p.facts::jsonb, agent_version = p.agent_version,
        cpu_capacity_millis = p.cpu_capacity_millis, memory_capacity_bytes = p.memory_capacity_bytes,
        pids_capacity = p.pids_capacity, cpu_allocatable_millis = p.cpu_allocatable_millis,
        memory_allocatable_bytes = p.memory_allocatable_bytes, pids_allocatable = p.pids_allocatable,
        connected_at = ${now}, last_seen_at = ${now}, updated_at = ${now},
        connected_replica = ${replicaId}, connection_epoch = h.connection_epoch + 1,
        address = COALESCE(p.address, h.address)
      FROM locked l JOIN presented p ON p.id = l.id
      WHERE h.id = l.id AND h.removed_at IS NULL AND h.credential_hash = p.credential_hash
      RETURNING h.id, h.name, h.connection_epoch, l.status <> 'online' AS came_online, p.agent_version
    ), recorded AS (
      INSERT INTO events (kind, host_id, message, data)
      SELECT e.kind, c.id, e.message, e.data
      FROM claimed c CROSS JOIN LATERAL (VALUES
        (1, 'host.connected', 'host ' || c.name || ' connected',
          jsonb_build_object('agentVersion', c.agent_version)),
        (2, 'host.online', 'host ' || c.name || ' is back online', '{}'::jsonb)
      ) AS e(n, kind, message, data)
      WHERE e.n = 1 OR c.came_online
      ORDER BY c.id, e.n
      RETURNING id, ts, kind, severity, host_id, container_id, deployment_id, message, data
    )
    SELECT r.id, r.ts, r.kind, r.severity::text AS severity, r.host_id AS "hostId",
      r.container_id AS "containerId", r.deployment_id AS "deploymentId", r.message, r.data,
      c.name AS "hostName", c.connection_epoch AS epoch, c.came_online AS "cameOnline"
    FROM claimed c JOIN recorded r ON r.host_id = c.id
    ORDER BY r.id`;
  const claimed = new Map<string, Extract<THelloAuthResult, { ok: true }>>();
  for (const row of rows) {
    const hostId = row.hostId as string;
    let outcome = claimed.get(hostId);
    if (!outcome) {
      outcome = {
        ok: true,
        hostId,
        hostName: row.hostName,
        joined: false,
        epoch: row.epoch,
        cameOnline: row.cameOnline,
        events: [],
      };
      claimed.set(hostId, outcome);
    }
    const { hostName: _hostName, epoch: _epoch, cameOnline: _cameOnline, ...event } = row;
    outcome.events.push(event);
  }
  const unclaimed = presented.filter((p) => !claimed.has(p.hostId)).map((p) => p.hostId);
  // Removal clears the credential, so a removed host is told why rather than "wrong credential".
  const removed = new Set(
    unclaimed.length === 0
      ? []
      : (
          await db.host.findMany({
            where: { id: { in: unclaimed }, removedAt: { not: null } },
            select: { id: true },
          })
        ).map((host) => host.id),
  );
  return presented.map(
    (p) =>
      claimed.get(p.hostId) ??
      (removed.has(p.hostId)
        ? refused(
            "this host was removed from the fleet; join again with a new join token",
            GATEWAY_CLOSE.hostRemoved,
          )
        : refused(BAD_CREDENTIAL_MESSAGE)),
  );
}
