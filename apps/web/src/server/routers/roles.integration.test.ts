// Every procedure states who may call it, and nobody can call what their
// role does not allow: this walks the whole router (queries, mutations and
// subscriptions, the latter over SSE as a browser opens them), so a procedure
// added later without the right role builder fails here.

import { useTestDatabase } from "@fleet/test/harness/postgres";
import type { AnyTRPCProcedure } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestUserWithToken } from "../testing/factories";
import {
  createUntypedTestClient,
  startTestServer,
  type TestServer,
  trpcErrorCode,
} from "../testing/test-server";
import type { TProcedureMeta } from "../trpc";
import { appRouter } from "./_app";

// Mutations a viewer may call, each for a reason: signing in and out, and
// managing the viewer's own API tokens (which carry the viewer role only).
const VIEWER_MUTATIONS = new Set(["auth.signIn", "auth.signOut", "apiToken.create", "apiToken.revoke"]);

// `_def.procedures` is the flat map of every procedure by its dotted path.
const flat = appRouter._def.procedures as unknown as Record<string, AnyTRPCProcedure>;
const procedures = Object.entries(flat).map(([path, procedure]) => ({
  path,
  type: procedure._def.type,
  access: (procedure._def.meta as TProcedureMeta | undefined)?.access,
}));

describe("roles", () => {
  const getDatabase = useTestDatabase();
  let server: TestServer;
  let viewerToken: string;
  let operatorToken: string;

  beforeAll(async () => {
    server = await startTestServer({ databaseUrl: getDatabase().url });
    ({ token: viewerToken } = await createTestUserWithToken({ db: server.db, role: "viewer" }));
    ({ token: operatorToken } = await createTestUserWithToken({ db: server.db, role: "operator" }));
  });
  afterAll(async () => {
    await server?.close();
  });

  /** The error code a call ends with (null: it succeeded). */
  async function refusal(
    credentials: { bearer: string } | null,
    path: string,
    type: string,
  ): Promise<string | null> {
    // An empty object: the role check runs before input parsing, so the input does not matter.
    if (type === "subscription") return subscriptionRefusal(credentials, path);
    const client = createUntypedTestClient(server.url, credentials);
    const call = type === "mutation" ? client.mutation(path, {}) : client.query(path, {});
    return call.then(
      () => null,
      (error: unknown) => trpcErrorCode(error) ?? String(error),
    );
  }

  // A subscription answers 200 and then an SSE `serialized-error` event; the stream ends after it.
  async function subscriptionRefusal(
    credentials: { bearer: string } | null,
    path: string,
  ): Promise<string | null> {
    const input = encodeURIComponent(JSON.stringify({ json: {} }));
    const response = await fetch(`${server.url}/api/trpc/${path}?input=${input}`, {
      headers: {
        accept: "text/event-stream",
        ...(credentials ? { authorization: `Bearer ${credentials.bearer}` } : {}),
      },
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    return /^event: serialized-error\ndata: .*"code":"([A-Z_]+)"/m.exec(text)?.[1] ?? null;
  }

  const pathsOf = (list: { path: string }[]) => list.map((procedure) => procedure.path);

  test("the router has the procedures this file reasons about", () => {
    const paths = procedures.map((procedure) => procedure.path);
    expect(paths).toEqual(expect.arrayContaining([...VIEWER_MUTATIONS, "host.remove", "user.create"]));
  });

  test("every procedure states who may call it", () => {
    const missing = procedures.filter((procedure) => procedure.access === undefined).map((p) => p.path);
    expect(missing).toEqual([]);
  });

  describe("a viewer", () => {
    const guardedMutations = procedures.filter(
      (procedure) => procedure.type === "mutation" && !VIEWER_MUTATIONS.has(procedure.path),
    );

    test("is refused every other mutation with FORBIDDEN", async () => {
      expect(guardedMutations.length).toBeGreaterThan(5);
      const answers = await Promise.all(
        guardedMutations.map(async ({ path, type }) => ({
          path,
          code: await refusal({ bearer: viewerToken }, path, type),
        })),
      );
      expect(answers).toEqual(guardedMutations.map(({ path }) => ({ path, code: "FORBIDDEN" })));
    });

    test("is refused every operator and admin query and subscription with FORBIDDEN", async () => {
      const guarded = procedures.filter(
        (procedure) =>
          procedure.type !== "mutation" && (procedure.access === "operator" || procedure.access === "admin"),
      );
      expect(pathsOf(guarded)).toEqual(
        expect.arrayContaining(["user.list", "joinToken.list", "image.watchPull", "image.watchBuild"]),
      );
      for (const { path, type } of guarded) {
        expect({ path, code: await refusal({ bearer: viewerToken }, path, type) }).toEqual({
          path,
          code: "FORBIDDEN",
        });
      }
    });

    test("is told which role is needed", async () => {
      const error = await createUntypedTestClient(server.url, { bearer: viewerToken })
        .mutation("host.remove", {})
        .catch((caught: unknown) => caught);
      expect((error as Error).message).toBe("this needs the admin role; you are viewer");
    });
  });

  test("an operator is refused every admin procedure with FORBIDDEN", async () => {
    const adminOnly = procedures.filter((procedure) => procedure.access === "admin");
    expect(pathsOf(adminOnly)).toEqual(
      expect.arrayContaining([
        "user.create",
        "user.update",
        "joinToken.create",
        "host.remove",
        "settings.update",
      ]),
    );
    for (const { path, type } of adminOnly) {
      expect({ path, code: await refusal({ bearer: operatorToken }, path, type) }).toEqual({
        path,
        code: "FORBIDDEN",
      });
    }
  });

  test("anonymous callers get UNAUTHORIZED from every procedure that is not public, subscriptions too", async () => {
    const guarded = procedures.filter((procedure) => procedure.access !== "public");
    expect(pathsOf(guarded.filter((procedure) => procedure.type === "subscription"))).toEqual(
      expect.arrayContaining(["event.stream", "metrics.live", "container.logsFollow"]),
    );
    for (const { path, type } of guarded) {
      expect({ path, code: await refusal(null, path, type) }).toEqual({ path, code: "UNAUTHORIZED" });
    }
  });
});
