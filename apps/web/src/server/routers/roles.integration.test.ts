// Every procedure states who may call it, and a viewer can change nothing it
// should not: this walks the whole router, so a procedure added later without
// the right role builder fails here.

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

  beforeAll(async () => {
    server = await startTestServer({ databaseUrl: getDatabase().url });
    ({ token: viewerToken } = await createTestUserWithToken({ db: server.db, role: "viewer" }));
  });
  afterAll(async () => {
    await server?.close();
  });

  async function call(credentials: { bearer: string } | null, path: string, type: string): Promise<unknown> {
    const client = createUntypedTestClient(server.url, credentials);
    // An empty object: the role check runs before input parsing, so the input does not matter.
    return type === "mutation" ? client.mutation(path, {}) : client.query(path, {});
  }

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
        guardedMutations.map(async ({ path, type }) => {
          const error = await call({ bearer: viewerToken }, path, type).then(
            () => null,
            (caught: unknown) => caught,
          );
          return { path, code: trpcErrorCode(error) };
        }),
      );
      expect(answers).toEqual(guardedMutations.map(({ path }) => ({ path, code: "FORBIDDEN" })));
    });

    test("is refused every operator and admin query with FORBIDDEN", async () => {
      const guardedQueries = procedures.filter(
        (procedure) =>
          procedure.type === "query" && (procedure.access === "operator" || procedure.access === "admin"),
      );
      expect(guardedQueries.map((procedure) => procedure.path)).toEqual(
        expect.arrayContaining(["user.list", "joinToken.list"]),
      );
      for (const { path, type } of guardedQueries) {
        const error = await call({ bearer: viewerToken }, path, type).catch((caught: unknown) => caught);
        expect({ path, code: trpcErrorCode(error) }).toEqual({ path, code: "FORBIDDEN" });
      }
    });

    test("is told which role is needed", async () => {
      const error = await call({ bearer: viewerToken }, "host.remove", "mutation").catch(
        (caught: unknown) => caught,
      );
      expect((error as Error).message).toBe("this needs the admin role; you are viewer");
    });
  });

  test("anonymous callers get UNAUTHORIZED from every procedure that is not public", async () => {
    const guarded = procedures.filter(
      (procedure) => procedure.access !== "public" && procedure.type !== "subscription",
    );
    for (const { path, type } of guarded) {
      const error = await call(null, path, type).catch((caught: unknown) => caught);
      expect({ path, code: trpcErrorCode(error) }).toEqual({ path, code: "UNAUTHORIZED" });
    }
  });
});
