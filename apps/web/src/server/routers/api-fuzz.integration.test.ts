// Ten thousand malformed or oversized requests, over real HTTP, to every query
// and mutation of the router (read at run time, so new procedures are fuzzed
// too), as an admin so authorization never hides a validation bug. Every answer
// must be an HTTP 4xx with a tRPC error a person can read, the server must stay
// healthy, and the database must hold what it held: no mutation is ever sent
// an input it would accept (see testing/fuzz-inputs.ts, predictRequest).
//
// The run is seeded and prints its seed; FLEET_FUZZ_SEED=<n> replays it.
import { randomInt } from "node:crypto";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestHost, createTestUserWithToken } from "../testing/factories";
import { createTestClient, startTestServer, type TestServer } from "../testing/test-server";
import { MAX_REQUEST_BODY_BYTES } from "../trpc";
import { appRouter } from "./_app";
import {
  anyValue,
  breakInput,
  brokenEnvelope,
  CONTENT_TYPES,
  deepAnnotation,
  deeplyNested,
  FuzzRandom,
  fieldsOf,
  hostileString,
  inputAccepted,
  jsonPost,
  NON_JSON_BODIES,
  percentEncoded,
  plainEnvelope,
  plainJson,
  predictRequest,
  proceduresOf,
  queryTarget,
  sampleFor,
  superjsonRequest,
  superjsonSpecial,
  type TCallOutcome,
  type TFuzzProcedure,
  type TFuzzRequest,
  truncate,
} from "./testing/fuzz-inputs";

const TOTAL_REQUESTS = 10_000;
const IN_FLIGHT = 16;
// Node refuses request heads over 16 KiB before tRPC sees them; GET inputs stay under it.
const MAX_GET_INPUT_CHARS = 12 * 1024;

const seed = process.env.FLEET_FUZZ_SEED ? Number(process.env.FLEET_FUZZ_SEED) : randomInt(2 ** 31);

const procedures = proceduresOf(appRouter);
const byPath = new Map(procedures.map((procedure) => [procedure.path, procedure]));
// Subscriptions answer 200 and an SSE stream even for bad input; they get their own test below.
const callable = procedures.filter((procedure) => procedure.type !== "subscription");
const queries = callable.filter((procedure) => procedure.type === "query");
const subscriptions = procedures.filter((procedure) => procedure.type === "subscription");
const keysOf = new Map(
  procedures.map((procedure) => [procedure.path, [...fieldsOf(procedure.inputs[0]).keys()]]),
);

function keys(procedure: TFuzzProcedure): string[] {
  return keysOf.get(procedure.path) ?? [];
}

/** A sample of `procedure`'s input with one field set to `value` (or the whole input, if it has no fields). */
function withField(rng: FuzzRandom, procedure: TFuzzProcedure, value: unknown): unknown {
  const sample = sampleFor(rng, procedure.inputs[0]);
  const fields = keys(procedure);
  if (fields.length === 0 || typeof sample !== "object" || sample === null || Array.isArray(sample))
    return value;
  (sample as Record<string, unknown>)[rng.pick(fields)] = value;
  return sample;
}

/** A query as GET when its input fits in a URL, otherwise as the POST tRPC refuses with 405. */
function send(category: string, procedure: TFuzzProcedure, body: string): TFuzzRequest {
  if (procedure.type === "query" && body.length < MAX_GET_INPUT_CHARS / 3) {
    return {
      category,
      method: "GET",
      target: `${procedure.path}?input=${encodeURIComponent(body)}`,
      headers: {},
    };
  }
  return jsonPost(category, procedure.path, body);
}

type TGenerator = (rng: FuzzRandom) => TFuzzRequest;

const generators: [category: string, count: number, generate: TGenerator][] = [
  [
    "schema-shaped, broken",
    5030,
    (rng) => {
      const procedure = rng.pick(callable);
      const sample = sampleFor(rng, procedure.inputs[0]);
      const value = rng.chance(0.8) ? breakInput(rng, sample, keys(procedure)) : sample;
      return superjsonRequest("schema-shaped, broken", procedure, value);
    },
  ],
  [
    "random value of any type",
    1200,
    (rng) => {
      const procedure = rng.pick(callable);
      return superjsonRequest(
        "random value of any type",
        procedure,
        anyValue(rng, rng.int(0, 6), keys(procedure)),
      );
    },
  ],
  [
    "NaN, Infinity, negatives, bigint, bad dates",
    500,
    (rng) => {
      const procedure = rng.pick(callable);
      return superjsonRequest(
        "NaN, Infinity, negatives, bigint, bad dates",
        procedure,
        withField(rng, procedure, superjsonSpecial(rng)),
      );
    },
  ],
  [
    "unicode edge cases",
    500,
    (rng) => {
      const procedure = rng.pick(callable);
      const text = hostileString(rng);
      return superjsonRequest(
        "unicode edge cases",
        procedure,
        withField(rng, procedure, rng.chance(0.8) ? text : [text]),
      );
    },
  ],
  [
    "prototype keys",
    300,
    (rng) => {
      const procedure = rng.pick(callable);
      const field = rng.pick(["__proto__", "constructor", "prototype"]);
      const polluted = rng.pick([
        '{"role":"admin","polluted":true}',
        '{"prototype":{"polluted":true}}',
        "null",
        '"x"',
      ]);
      const sample = plainJson(sampleFor(rng, procedure.inputs[0]) ?? {});
      const json =
        sample.startsWith("{") && sample !== "{}"
          ? `{"${field}":${polluted},${sample.slice(1)}`
          : `{"${field}":${polluted}}`;
      const nested =
        rng.chance(0.3) && keys(procedure).length > 0 ? `{"${rng.pick(keys(procedure))}":${json}}` : json;
      return send("prototype keys", procedure, `{"json":${nested}}`);
    },
  ],
  [
    "huge strings",
    90,
    (rng) => {
      const procedure = rng.pick(callable);
      // Bytes on the wire: 100 KiB to 2 MiB (a NUL is escaped to six).
      const bytes = rng.int(100 * 1024, 2 * 1024 * 1024);
      const [unit, width] = rng.pick([
        ["x", 1],
        ["é", 2],
        ["🙂", 4],
        ["\u0000", 6],
      ] as const);
      const value = withField(rng, procedure, unit.repeat(Math.floor(bytes / width)));
      return jsonPost("huge strings", procedure.path, plainEnvelope(value));
    },
  ],
  [
    "huge arrays",
    80,
    (rng) => {
      const procedure = rng.pick(callable);
      const getSized = procedure.type === "query";
      const length = getSized ? rng.int(500, 2500) : rng.int(10_000, 60_000);
      const item = getSized ? 0 : rng.pick<unknown>([0, "x", null, {}, []]);
      const value = rng.chance(0.7)
        ? withField(rng, procedure, new Array(length).fill(item))
        : new Array(length).fill(item);
      return send("huge arrays", procedure, plainEnvelope(value));
    },
  ],
  [
    "nesting 10,000 deep",
    90,
    (rng) => {
      const procedure = rng.pick(callable);
      const kind = rng.pick(["object", "array"] as const);
      const fields = keys(procedure);
      if (procedure.type === "query" && rng.chance(0.5)) {
        // Deep through a GET: as deep as a URL allows.
        const deep = deeplyNested(rng.int(1000, 1900), "array");
        return send("nesting 10,000 deep", procedure, `{"json":${deep}}`);
      }
      if (rng.chance(0.15)) {
        // superjson's annotation tree, as deep: its reader recurses.
        return send(
          "nesting 10,000 deep",
          procedure,
          `{"json":{},"meta":{"values":${deepAnnotation(10_000)}}}`,
        );
      }
      const deep = deeplyNested(10_000, kind, fields.length > 0 ? rng.pick(fields) : "a");
      const json =
        fields.length > 0 && rng.chance(0.6) ? `{${JSON.stringify(rng.pick(fields))}:${deep}}` : deep;
      return jsonPost("nesting 10,000 deep", procedure.path, `{"json":${json}}`);
    },
  ],
  [
    "bodies that are not JSON",
    300,
    (rng) => {
      const procedure = rng.pick(callable);
      const request = jsonPost("bodies that are not JSON", procedure.path, "");
      request.body = rng.pick(NON_JSON_BODIES);
      return request;
    },
  ],
  [
    "wrong content types",
    400,
    (rng) => {
      const procedure = rng.pick(callable);
      const body = rng.chance(0.8)
        ? plainEnvelope(breakInput(rng, sampleFor(rng, procedure.inputs[0]), keys(procedure)))
        : '--x\r\nContent-Disposition: form-data; name="ttl"\r\n\r\n1s\r\n--x--\r\n';
      const contentType = rng.pick(CONTENT_TYPES);
      return {
        category: "wrong content types",
        method: "POST",
        target: procedure.path,
        headers: contentType === null ? {} : { "content-type": contentType },
        // Bytes, so fetch adds no content type of its own when there is none.
        body: contentType === null ? new TextEncoder().encode(body) : body,
      };
    },
  ],
  [
    "broken superjson envelopes",
    400,
    (rng) => {
      const procedure = rng.pick(callable);
      const json = breakInput(rng, sampleFor(rng, procedure.inputs[0]), keys(procedure));
      const envelope = brokenEnvelope(rng, JSON.parse(plainJson(json)), keys(procedure));
      return send("broken superjson envelopes", procedure, envelope);
    },
  ],
  [
    "GET with a bad input parameter",
    600,
    (rng) => {
      const procedure = rng.pick(callable);
      const input = rng.pick([
        "{",
        "not json",
        "%",
        "undefined",
        '{"json":}',
        '{"json":1}x',
        "[",
        '"\\ud800"',
        "\u0000",
        plainJson(anyValue(rng, 3, keys(procedure))),
        plainEnvelope(anyValue(rng, 3, keys(procedure))),
        brokenEnvelope(rng, null, keys(procedure)).slice(0, 2000),
      ]);
      const encoded = rng.chance(0.9) ? encodeURIComponent(input) : input.replace(/[#\s]/g, "");
      const extra = rng.pick([
        "",
        `&input=${encodeURIComponent('{"json":{}}')}`,
        "&batch=0",
        "&batch=true",
        "&connectionParams=%7B",
      ]);
      return {
        category: "GET with a bad input parameter",
        method: "GET",
        target: `${procedure.path}?input=${encoded}${extra}`,
        headers: {},
      };
    },
  ],
  [
    "wrong methods",
    300,
    (rng) => {
      const procedure = rng.pick(callable);
      const value = rng.chance(0.5)
        ? sampleFor(rng, procedure.inputs[0])
        : breakInput(rng, sampleFor(rng, procedure.inputs[0]), keys(procedure));
      const method = rng.pick([
        "PUT",
        "PATCH",
        "DELETE",
        "OPTIONS",
        procedure.type === "query" ? "POST" : "GET",
      ]);
      if (method === "GET")
        return { category: "wrong methods", method, target: queryTarget(procedure.path, value), headers: {} };
      const request = jsonPost("wrong methods", procedure.path, plainEnvelope(value));
      request.method = method;
      return request;
    },
  ],
  [
    "batches of hundreds of calls",
    60,
    (rng) => {
      const size = rng.int(100, 500);
      const mutation = rng.chance(0.5);
      const pool = rng.chance(0.1)
        ? callable
        : mutation
          ? callable.filter((p) => p.type === "mutation")
          : queries;
      const calls = Array.from({ length: size }, () => rng.pick(pool));
      const paths = calls
        .map((procedure) => (rng.chance(0.05) ? "no.such.procedure" : procedure.path))
        .join(",");
      const inputs: Record<number, unknown> = {};
      for (const [index, procedure] of calls.entries()) {
        // Query batches travel in a URL: short inputs only.
        const broken = mutation
          ? breakInput(rng, sampleFor(rng, procedure.inputs[0]), keys(procedure))
          : anyValue(rng, 0);
        inputs[index] = { json: rng.chance(0.5) ? rng.int(0, 9) : broken };
      }
      const body = rng.chance(0.1) ? plainJson(rng.pick([[1, 2], 5, "x", null])) : plainJson(inputs);
      const getTarget = `${paths}?batch=1&input=${encodeURIComponent(body)}`;
      if (!mutation && getTarget.length < MAX_GET_INPUT_CHARS) {
        return { category: "batches of hundreds of calls", method: "GET", target: getTarget, headers: {} };
      }
      return jsonPost("batches of hundreds of calls", `${paths}?batch=1`, body);
    },
  ],
  [
    "procedures that do not exist",
    150,
    (rng) => {
      const procedure = rng.pick(callable);
      const path = rng.pick([
        "nope",
        "host",
        "host.",
        ".host.list",
        `${procedure.path}.extra`,
        procedure.path.toUpperCase(),
        procedure.path.replace(".", "/"),
        "__proto__",
        "constructor",
        "toString",
        "host.__proto__",
        "_def",
        "%E0%A4%A",
        "%00",
        percentEncoded(hostileString(rng)),
        "a".repeat(rng.int(100, 8000)),
      ]);
      return rng.chance(0.5)
        ? {
            category: "procedures that do not exist",
            method: "GET",
            target: `${path}?input=%7B%7D`,
            headers: {},
          }
        : jsonPost("procedures that do not exist", path, '{"json":{}}');
    },
  ],
];

const plannedTotal = generators.reduce((sum, [, count]) => sum + count, 0);

interface TFailure {
  problem: string;
  category: string;
  request: string;
  status: number | null;
  response: string;
}

interface TErrorShape {
  message?: unknown;
  code?: unknown;
  data?: { code?: unknown; httpStatus?: unknown; path?: unknown };
}

// What a person must never be shown: stack frames, file paths, Prisma or
// zod internals, JavaScript engine errors.
const UNREADABLE: [RegExp, string][] = [
  [/\n\s*at\s|\(\S+:\d+:\d+\)|\.(m?[jt]s|cjs):\d+/, "a stack trace"],
  [/node_modules|file:\/\/|\/work\/|\/src\//, "a file path"],
  [/prisma|\bP\d{4}\b/i, "Prisma internals"],
  [/"code":\s*"|"path":\s*\[|^\s*\[\s*\{/, "raw zod issues"],
  [/\[object Object\]|^undefined$|^null$/, "a JavaScript value dump"],
  [
    /Maximum call stack|is not a function|Cannot read propert|is not iterable|is not defined/,
    "a JavaScript engine error",
  ],
];

function problemsOfError(error: unknown, where: string): string[] {
  const shape = (error as { json?: TErrorShape } | null)?.json;
  if (!shape || typeof shape !== "object") return [`${where}: the error is not a superjson tRPC error shape`];
  const problems: string[] = [];
  if (typeof shape.message !== "string" || shape.message.trim() === "") {
    problems.push(`${where}: the error has no message`);
  } else {
    if (shape.message.length > 2000)
      problems.push(`${where}: the message is ${shape.message.length} chars long`);
    for (const [pattern, what] of UNREADABLE) {
      if (pattern.test(shape.message)) problems.push(`${where}: the message shows ${what}`);
    }
  }
  if (typeof shape.code !== "number") problems.push(`${where}: the error has no numeric code`);
  if (typeof shape.data?.code !== "string" || typeof shape.data.httpStatus !== "number") {
    problems.push(`${where}: the error has no data.code / data.httpStatus`);
  } else if (shape.data.httpStatus >= 500) {
    problems.push(`${where}: ${shape.data.code} (${shape.data.httpStatus})`);
  }
  if (JSON.stringify(shape).includes('"stack"')) problems.push(`${where}: the error carries a stack`);
  return problems;
}

/** Everything wrong with the server's answer to a request predicted as `calls`. */
function problemsOfAnswer(calls: TCallOutcome[], isBatch: boolean, status: number, text: string): string[] {
  if (status >= 500) return [`HTTP ${status}`];
  const refused = calls.every((call) => call === "refused");
  if (refused && (status < 400 || status >= 500) && !(isBatch && status === 207)) {
    return [`HTTP ${status} for input that must be refused`];
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [`the body is not JSON`];
  }
  if (isBatch) {
    // A batch refused as a whole (procedure types mixed) is answered with one error.
    if (!Array.isArray(body) && refused && (body as { error?: unknown } | null)?.error !== undefined) {
      return problemsOfError((body as { error: unknown }).error, "batch");
    }
    if (!Array.isArray(body) || body.length === 0)
      return ["a batch answer that is neither an array nor one error"];
    return body.flatMap((item: { error?: unknown; result?: unknown }, index) => {
      const call = calls[index] ?? "refused";
      if (item.error !== undefined) return problemsOfError(item.error, `call ${index}`);
      return call === "refused" ? [`call ${index} succeeded with input that must be refused`] : [];
    });
  }
  const { error, result } = (body ?? {}) as { error?: unknown; result?: unknown };
  if (error === undefined) {
    return refused || result === undefined ? ["the answer is neither a result nor an error"] : [];
  }
  const problems = problemsOfError(error, "error");
  const httpStatus = (error as { json?: TErrorShape }).json?.data?.httpStatus;
  if (httpStatus !== status) problems.push(`data.httpStatus ${String(httpStatus)} but HTTP ${status}`);
  return problems;
}

function describeRequest(request: TFuzzRequest): string {
  const body =
    request.body === undefined
      ? ""
      : typeof request.body === "string"
        ? ` body ${truncate(JSON.stringify(request.body), 300)}`
        : ` body <${request.body.byteLength} bytes>`;
  const contentType = request.headers["content-type"];
  return `${request.method} /api/trpc/${truncate(request.target, 300)}${contentType === undefined ? "" : ` [${contentType}]`}${body}`;
}

// A different, reproducible stream of choices for every request index.
function caseSeed(index: number): number {
  return Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
}

async function runPool(
  count: number,
  inFlight: number,
  work: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) {
        const index = next++;
        await work(index);
      }
    }),
  );
}

describe("API input fuzzing", () => {
  const getDatabase = useTestDatabase();
  let server: TestServer;
  let adminToken: string;

  async function rowCounts() {
    const db = server.db;
    const [users, sessions, apiTokens, joinTokens, hosts, hostImages, containers, deployments, events] =
      await Promise.all([
        db.user.count(),
        db.session.count(),
        db.apiToken.count(),
        db.joinToken.count(),
        db.host.count(),
        db.hostImage.count(),
        db.container.count(),
        db.deployment.count(),
        db.event.count(),
      ]);
    return { users, sessions, apiTokens, joinTokens, hosts, hostImages, containers, deployments, events };
  }

  beforeAll(async () => {
    console.log(`api fuzz: seed ${seed} (replay with FLEET_FUZZ_SEED=${seed})`);
    // The online host below has no agent: a long grace keeps the offline sweep from recording
    // its (correct) host.offline event while the fuzzer checks that nothing was stored.
    server = await startTestServer({ databaseUrl: getDatabase().url, env: { FLEET_OFFLINE_AFTER: "1h" } });
    ({ token: adminToken } = await createTestUserWithToken({ db: server.db, role: "admin" }));
    // Rows for list and get queries to walk over while they are fuzzed.
    await createTestHost(server.db, { labels: { zone: "a" } });
    await createTestHost(server.db, { status: "offline", draining: true });
  });
  afterAll(async () => {
    await server?.close();
  });

  test("the fuzzer reaches every query and mutation of the router", () => {
    expect(plannedTotal).toBe(TOTAL_REQUESTS);
    expect(callable.length).toBeGreaterThan(20);
    for (const procedure of callable) expect(procedure.inputs, procedure.path).not.toHaveLength(0);
  });

  test("the in-process prediction agrees with the schemas", async () => {
    const hostList = byPath.get("host.list")!;
    const userCreate = byPath.get("user.create")!;
    expect(await inputAccepted(hostList, { limit: 5 })).toBe(true);
    expect(await inputAccepted(hostList, { limit: Number.NaN })).toBe(false);
    const create = { email: "a@example.test", name: "A", password: "long-enough-password" };
    expect(await predictRequest(superjsonRequest("check", userCreate, create), byPath)).toEqual({
      calls: ["valid-mutation"],
    });
    expect(
      await predictRequest(superjsonRequest("check", userCreate, { ...create, email: 1 }), byPath),
    ).toEqual({
      calls: ["refused"],
    });
    // A body with no superjson envelope reaches the schema as undefined: joinToken.create takes that.
    expect(await predictRequest(jsonPost("check", "joinToken.create", '{"ttl":"1h"}'), byPath)).toEqual({
      calls: ["valid-mutation"],
    });
    expect(
      await predictRequest(jsonPost("check", "user.create", "x".repeat(MAX_REQUEST_BODY_BYTES + 1)), byPath),
    ).toEqual({ calls: ["refused"] });
  });

  test(`${TOTAL_REQUESTS} malformed requests: each a readable 4xx, the server unharmed, nothing stored`, {
    timeout: 240_000,
  }, async () => {
    const before = await rowCounts();

    const failures: TFailure[] = [];
    const statuses = new Map<number, number>();
    const unsendable: string[] = [];
    let sent = 0;
    const reached = new Set<string>();

    let validQueries = 0;
    const started = Date.now();

    await runPool(TOTAL_REQUESTS, IN_FLIGHT, async (index) => {
      let offset = index;
      const entry = generators.find(([, count]) => {
        if (offset < count) return true;
        offset -= count;
        return false;
      });
      if (!entry) throw new Error(`no generator for request ${index}`);
      const [category, , generate] = entry;
      const rng = new FuzzRandom(caseSeed(index));
      let request = generate(rng);
      let prediction = await predictRequest(request, byPath);
      // Inputs a mutation would accept are drawn again: sending them would change the database.
      for (let attempt = 0; prediction.calls.includes("valid-mutation"); attempt++) {
        if (attempt === 50) {
          unsendable.push(`${category}: ${describeRequest(request)}`);
          return;
        }
        request = generate(rng);
        prediction = await predictRequest(request, byPath);
      }
      if (prediction.calls.includes("valid-query")) validQueries++;

      const isBatch = /[?&]batch=1(&|$)/.test(request.target);

      let status: number | null = null;
      let text = "";
      try {
        const response = await fetch(`${server.url}/api/trpc/${request.target}`, {
          method: request.method,
          headers: { ...request.headers, authorization: `Bearer ${adminToken}` },
          ...(request.body === undefined ? {} : { body: request.body as BodyInit }),
          signal: AbortSignal.timeout(30_000),
        });
        status = response.status;
        text = await response.text();
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        failures.push({
          problem: `no HTTP answer: ${String(error)} ${cause?.code ?? cause?.message ?? ""}`,
          category,
          request: describeRequest(request),
          status,
          response: "",
        });
        return;
      }
      sent++;
      for (const path of request.target.split("?")[0]?.split(",") ?? []) reached.add(path);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      for (const problem of problemsOfAnswer(prediction.calls, isBatch, status, text)) {
        failures.push({
          problem,
          category,
          request: describeRequest(request),
          status,
          response: truncate(text, 400),
        });
      }
    });

    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `api fuzz: ${sent} requests in ${seconds} s (${validQueries} were queries with acceptable input), ` +
        `statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}, ` +
        `${unsendable.length} cases skipped as acceptable mutations, seed ${seed}`,
    );
    if (failures.length > 0) {
      const byProblem = new Map<string, number>();
      for (const failure of failures) {
        const key = `${failure.problem} [${failure.category}]`;
        byProblem.set(key, (byProblem.get(key) ?? 0) + 1);
      }
      console.log(`api fuzz: ${failures.length} problems (seed ${seed}):`);
      for (const [key, count] of byProblem) console.log(`  ${count} × ${key}`);
      const shown = new Map<string, number>();
      for (const failure of failures) {
        // A few of each kind: one problem can fill the list otherwise.
        const key = `${failure.problem} [${failure.category}]`;
        const count = shown.get(key) ?? 0;
        shown.set(key, count + 1);
        if (count >= 3) continue;
        console.log(
          `--- ${failure.problem}\n    request: ${failure.request}\n    HTTP ${failure.status}: ${failure.response}`,
        );
      }
    }
    expect(failures.map((failure) => `${failure.problem}: ${failure.request}`)).toEqual([]);
    // Nearly every case finds an input no mutation accepts; a few may not.
    expect(unsendable.length).toBeLessThan(TOTAL_REQUESTS / 100);
    expect(sent + unsendable.length).toBe(TOTAL_REQUESTS);
    expect(callable.map((procedure) => procedure.path).filter((path) => !reached.has(path))).toEqual([]);

    // Unharmed: it answers, valid calls work, nothing failed inside, nothing was stored.
    const anonymous = createTestClient(server.url);
    expect((await anonymous.health.query()).status).toBe("ok");
    const admin = createTestClient(server.url, { bearer: adminToken });
    expect((await admin.host.list.query()).items).toHaveLength(2);
    expect((await admin.user.list.query()).items).toHaveLength(before.users);
    expect(await rowCounts()).toEqual(before);
    const errors = server.log.lines.filter((line) => line.level >= 50);
    expect(errors.map((line) => `${line.msg} ${JSON.stringify(line).slice(0, 300)}`)).toEqual([]);
  });

  test("subscriptions answer bad input with an SSE error event a person can read", {
    timeout: 60_000,
  }, async () => {
    expect(subscriptions.length).toBeGreaterThan(0);
    const rng = new FuzzRandom(caseSeed(-1));
    const failures: string[] = [];
    for (const subscription of subscriptions) {
      for (let round = 0; round < 8; round++) {
        let target = `${subscription.path}?input=%7Bnot-json`;
        // A subscription given input it accepts would stream for good: only refused ones are sent.
        while (round > 0) {
          const input = breakInput(rng, sampleFor(rng, subscription.inputs[0]), keys(subscription));
          target = queryTarget(subscription.path, input);
          const { calls } = await predictRequest(
            { category: "sse", method: "GET", target, headers: {} },
            byPath,
          );
          if (calls.every((call) => call === "refused")) break;
        }
        const where = `${subscription.path} ${truncate(target, 200)}`;
        let status: number;
        let text: string;
        try {
          const response = await fetch(`${server.url}/api/trpc/${target}`, {
            headers: { accept: "text/event-stream", authorization: `Bearer ${adminToken}` },
            signal: AbortSignal.timeout(10_000),
          });
          status = response.status;
          // The stream ends after its one error event.
          text = await response.text();
        } catch (error) {
          failures.push(`${where}: ${String(error)}`);
          continue;
        }
        const data = /event: serialized-error\ndata: (.*)\n/.exec(text)?.[1];
        if (status >= 500 || !data) {
          failures.push(`${where}: HTTP ${status} ${truncate(text, 300)}`);
          continue;
        }
        const problems = problemsOfError(JSON.parse(data), "error");
        const code = (JSON.parse(data) as { json?: TErrorShape }).json?.data?.code;
        if (code !== "BAD_REQUEST") problems.push(`code ${String(code)}, not BAD_REQUEST`);
        failures.push(...problems.map((problem) => `${where}: ${problem} (${truncate(data, 300)})`));
      }
    }
    expect(failures).toEqual([]);
  });

  test("a request head too large for Node is refused without taking the server down", async () => {
    const response = await fetch(`${server.url}/api/trpc/host.list?input=${"x".repeat(20_000)}`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    // Node's parser refuses it before tRPC runs: an HTTP 4xx, not a reset.
    expect([400, 414, 431]).toContain(response.status);
    expect((await createTestClient(server.url).health.query()).status).toBe("ok");
  });
});
