// `hello` → a host. A join token is redeemed once: one transaction claims it,
// creates the host with a fresh credential and records the event, so a token
// can never make two hosts even when two agents present it at once. A
// credential is checked against its stored hash in constant time.
import type { THelloFrame } from "@fleet/shared/protocol/agent-to-server";
import { Prisma, type PrismaClient } from "../db/client";
import type { TEventRow } from "../events/event-view";
import { recordEvent } from "../events/record-event";
import { constantTimeEqual, generateToken, hashToken } from "../tokens";
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

export async function authenticateHello(options: {
  db: PrismaClient;
  hello: THelloFrame;
  now: Date;
}): Promise<THelloAuthResult> {
  const { hello } = options;
  if (hello.auth.kind === "join") return redeemJoinToken({ ...options, joinToken: hello.auth.joinToken });
  return checkCredential({ ...options, hostId: hello.auth.hostId, credential: hello.auth.credential });
}

class JoinRefused extends Error {}

async function redeemJoinToken(options: {
  db: PrismaClient;
  hello: THelloFrame;
  now: Date;
  joinToken: string;
}): Promise<THelloAuthResult> {
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
          },
          select: { id: true, name: true },
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

async function checkCredential(options: {
  db: PrismaClient;
  hello: THelloFrame;
  now: Date;
  hostId: string;
  credential: string;
}): Promise<THelloAuthResult> {
  const { db, hello, now, hostId } = options;
  const host = await db.host.findUnique({
    where: { id: hostId },
    select: { id: true, name: true, status: true, credentialHash: true, removedAt: true },
  });
  // Removal clears the credential, so a removed host is told why rather than "wrong credential".
  if (host?.removedAt) {
    return refused(
      "this host was removed from the fleet; join again with a new join token",
      GATEWAY_CLOSE.hostRemoved,
    );
  }
  const presented = hashToken(options.credential);
  // Compare even for an unknown host, so the answer takes as long either way.
  const matches = constantTimeEqual(presented, host?.credentialHash ?? "0".repeat(presented.length));
  if (!host?.credentialHash || !matches) return refused(BAD_CREDENTIAL_MESSAGE);
  return db.$transaction(async (tx) => {
    // Labels stay as they are: after the join they belong to the administrator.
    await tx.host.update({
      where: { id: host.id },
      data: {
        status: "online",
        facts: hello.facts,
        agentVersion: hello.agentVersion,
        ...capacityFromHello(hello),
        connectedAt: now,
        lastSeenAt: now,
      },
      select: { id: true },
    });
    const cameOnline = host.status !== "online";
    const events = [
      await recordEvent({
        db: tx,
        kind: "host.connected",
        hostId: host.id,
        message: `host ${host.name} connected`,
        data: { agentVersion: hello.agentVersion },
      }),
    ];
    if (cameOnline) {
      events.push(
        await recordEvent({
          db: tx,
          kind: "host.online",
          hostId: host.id,
          message: `host ${host.name} is back online`,
        }),
      );
    }
    return { ok: true as const, hostId: host.id, hostName: host.name, joined: false, cameOnline, events };
  });
}
