import { describe, expect, test } from "vitest";
import type { PrismaClient } from "../../db/client";
import { auditCallerOf, recordAuditEvent } from "./record-audit-event";

// Enough of Prisma for recordEvent: keeps what would be stored.
function fakeDb() {
  const created: { kind: string; severity: string; message: string; data: unknown }[] = [];
  const db = {
    event: {
      async create({ data }: { data: { kind: string; severity: string; message: string; data: unknown } }) {
        created.push(data);
        return {
          id: BigInt(created.length),
          ts: new Date(0),
          hostId: null,
          containerId: null,
          deploymentId: null,
          ...data,
        };
      },
    },
  };
  return { db: db as unknown as PrismaClient, created };
}

const admin = {
  user: { id: "u-admin", email: "admin@example.test", name: "Admin", role: "admin" as const },
  via: "apiToken" as const,
  apiTokenId: "t-1",
};

describe("recordAuditEvent", () => {
  test("stores who, from where and what, and says it in the message", async () => {
    const { db, created } = fakeDb();
    const published: unknown[] = [];
    await recordAuditEvent({
      db,
      bus: { publish: (_topic, payload) => published.push(payload) },
      kind: "audit.user.role-changed",
      ...auditCallerOf({ auth: admin, clientAddress: "203.0.113.7" }),
      target: { userId: "u-bob", email: "bob@example.test", role: "operator", previousRole: "viewer" },
    });
    expect(created).toEqual([
      {
        kind: "audit.user.role-changed",
        severity: "info",
        hostId: null,
        containerId: null,
        deploymentId: null,
        message:
          "admin@example.test changed the role of bob@example.test from viewer to operator — from 203.0.113.7",
        data: {
          actor: { userId: "u-admin", email: "admin@example.test", via: "apiToken", apiTokenId: "t-1" },
          clientAddress: "203.0.113.7",
          target: { userId: "u-bob", email: "bob@example.test", role: "operator", previousRole: "viewer" },
        },
      },
    ]);
    expect(published).toHaveLength(1);
  });

  test("a refused sign-in has no actor, is a warning, and keeps what was typed within bounds", async () => {
    const { db, created } = fakeDb();
    const typed = `mallory\u0000@example.test\ud800${"x".repeat(1000)}`;
    await recordAuditEvent({
      db,
      kind: "audit.sign-in.throttled",
      ...auditCallerOf({ auth: null, clientAddress: "198.51.100.2" }),
      target: { email: typed },
      retryAfterMs: 14.5 * 60_000,
    });
    const [event] = created;
    expect(event?.severity).toBe("warning");
    const data = event?.data as { actor: unknown; target: { email: string } };
    expect(data.actor).toBeNull();
    expect(data.target.email).toHaveLength(320);
    expect(data.target.email.startsWith("mallory@example.test\ufffdxxx")).toBe(true);
    expect(event?.message).toMatch(
      /^sign-in as mallory@example\.test\ufffdx+ refused for 15 min: too many failed attempts — from 198\.51\.100\.2$/,
    );
  });

  test("refuses any field the audit shape does not declare, so no secret can ride along", async () => {
    const { db, created } = fakeDb();
    await expect(
      recordAuditEvent({
        db,
        kind: "audit.api-token.created",
        actor: null,
        clientAddress: "127.0.0.1",
        target: { apiTokenId: "t-2", token: "fleet_api_secret" } as never,
      }),
    ).rejects.toThrow();
    expect(created).toEqual([]);
  });
});
