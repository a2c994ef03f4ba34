/**
 * Hostile requests for the API fuzz test (../api-fuzz.integration.test.ts):
 * a seeded PRNG, values of every JSON and superjson type, inputs shaped by a
 * procedure's own zod schema and then broken, and raw requests tRPC does not
 * expect (bodies that are not JSON, wrong content types and methods, broken
 * superjson envelopes, deep nesting, huge batches).
 *
 * `predictRequest` replays in process what the server does with a request
 * before any procedure runs (tRPC's JSON, multipart and octet-stream readers,
 * superjson, the method check, the body limit, the input schemas), so the test
 * knows whether an input is one a procedure would accept: it never sends a
 * mutation an accepted input, so nothing in the database may change.
 *
 * May import: superjson, @trpc/server types, ../../trpc (the body limit).
 */
import type { AnyTRPCProcedure } from "@trpc/server";
import superjson from "superjson";
import { MAX_REQUEST_BODY_BYTES } from "../../trpc";

// mulberry32: tiny, fast and good enough to pick test cases; the same seed replays the same run.
export class FuzzRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined && items.length === 0) throw new Error("pick() from an empty list");
    return item as T;
  }
}

// ---------------------------------------------------------------- procedures

export interface TFuzzProcedure {
  path: string;
  type: "query" | "mutation" | "subscription";
  /** The input parsers tRPC runs in turn (zod schemas here). */
  inputs: unknown[];
}

export function proceduresOf(router: { _def: { procedures: object } }): TFuzzProcedure[] {
  const flat = router._def.procedures as Record<string, AnyTRPCProcedure>;
  return Object.entries(flat).map(([path, procedure]) => ({
    path,
    type: procedure._def.type,
    inputs: (procedure._def as unknown as { inputs?: unknown[] }).inputs ?? [],
  }));
}

/** Whether tRPC's input middleware would let `value` through every parser of `procedure`. */
export async function inputAccepted(procedure: TFuzzProcedure, value: unknown): Promise<boolean> {
  for (const parser of procedure.inputs) {
    const candidate = parser as {
      safeParseAsync?: (input: unknown) => Promise<{ success: boolean }>;
      "~standard"?: { validate(input: unknown): unknown };
    };
    try {
      if (typeof candidate.safeParseAsync === "function") {
        if (!(await candidate.safeParseAsync(value)).success) return false;
      } else if (candidate["~standard"]) {
        const result = (await candidate["~standard"].validate(value)) as { issues?: unknown };
        if (result.issues) return false;
      } else {
        throw new Error("an input parser of a kind this fuzzer does not know");
      }
    } catch (error) {
      if (error instanceof Error && error.message.startsWith("an input parser")) throw error;
      // The server's input middleware turns a throwing parser into BAD_REQUEST too.
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------- values

const PROTO_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf"];

const PLAUSIBLE_STRINGS = [
  "",
  " ",
  "a",
  "x1",
  "1h",
  "30s",
  "7d",
  "0",
  "-1m",
  "1e9d",
  "99999999999999999999d",
  "0.5",
  "2",
  "500m",
  "-1",
  "64m",
  "1g",
  "1e100",
  "8080:80",
  "99999:80",
  "0:0",
  "80/udp",
  "127.0.0.1:53:53/udp",
  "zone=a",
  "zone in ()",
  "zone in (a,b),!gpu",
  "a=b,c!=d",
  "=",
  "!",
  "busybox:1.36",
  "busybox",
  "Busybox:Latest",
  "registry.local:5000/app@sha256:abc",
  `sha256:${"a".repeat(64)}`,
  "abcdef012345",
  "x@example.test",
  "  Admin@Example.Test ",
  "long-enough-password",
  "running",
  "stopped",
  "binpack",
  "spread",
  "on-failure:3",
  "on-failure:-1",
  "always",
  "no",
  "KEY=value",
  "=novalue",
  "admin",
  "operator",
  "viewer",
  "root",
  "info",
  "warning",
  "container.",
  "1",
  "1h",
  "6h",
  "24h",
  "30d",
  "00000000-0000-7000-8000-000000000000",
  "no-such-id",
  "MTIz",
  "eyJpZCI6IngifQ",
  Buffer.from(JSON.stringify({ id: 1, createdAt: "x" })).toString("base64url"),
  Buffer.from(JSON.stringify(["a", 1, null])).toString("base64url"),
  "1:2:3",
  "9223372036854775808",
  "-9223372036854775809",
  "null",
  "undefined",
  "true",
  "NaN",
  "Infinity",
  "0x10",
];

const HOSTILE_STRINGS = [
  "\u0000",
  "a\u0000b",
  "id\u0000",
  "\ud800",
  "\udfff",
  "x\ud83d",
  "\udc00\ud800",
  "\u202eevil",
  "\ufeffbom",
  "\u{10ffff}",
  "🙂".repeat(40),
  "\r\n",
  "\t  \n",
  "%00",
  "%",
  "' OR 1=1 --",
  '"; DROP TABLE users; --',
  "$(reboot)",
  "`id`",
  "../../etc/passwd",
  "\\",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, meant literally.
  "${7*7}",
  "{{7*7}}",
  "<script>alert(1)</script>",
  "__proto__",
  "constructor",
  "a".repeat(65),
  "a".repeat(129),
  "b".repeat(321),
  "é".repeat(300),
  "\u0301".repeat(50),
  "\u0000".repeat(64),
];

export function hostileString(rng: FuzzRandom): string {
  const choice = rng.int(0, 9);
  if (choice < 6) return rng.pick(HOSTILE_STRINGS);
  if (choice < 8) return `${rng.pick(PLAUSIBLE_STRINGS)}${rng.pick(HOSTILE_STRINGS)}`;
  // A random code unit soup, surrogates and controls included.
  const units = Array.from({ length: rng.int(1, 40) }, () =>
    rng.chance(0.3) ? rng.int(0, 0x1f) : rng.chance(0.3) ? rng.int(0xd800, 0xdfff) : rng.int(0x20, 0xffff),
  );
  return String.fromCharCode(...units);
}

export function anyString(rng: FuzzRandom): string {
  return rng.chance(0.6) ? rng.pick(PLAUSIBLE_STRINGS) : hostileString(rng);
}

const NUMBERS = [
  0,
  -0,
  1,
  -1,
  2,
  0.5,
  -0.5,
  50,
  100,
  1000,
  1001,
  1e308,
  -1e308,
  2 ** 31,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53) - 2,
  4_194_305,
  Number.MIN_VALUE,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
];

export function anyNumber(rng: FuzzRandom): number {
  return rng.chance(0.85) ? rng.pick(NUMBERS) : (rng.next() - 0.5) * 10 ** rng.int(0, 20);
}

/** Values only superjson can carry: they reach the schemas as themselves, not as strings. */
export function superjsonSpecial(rng: FuzzRandom): unknown {
  switch (rng.int(0, 12)) {
    case 0:
      return undefined;
    case 1:
      return rng.pick([2n ** 64n, -1n, 0n, 10n ** 40n]);
    case 2:
      return new Date(Number.NaN);
    case 3:
      return new Date(rng.pick([0, -8.64e15, 8.64e15, Date.UTC(2020, 0, 1)]));
    case 4:
      return new Map<unknown, unknown>([
        ["a", 1],
        [1, "b"],
      ]);
    case 5:
      return new Set([1, "a", null]);
    case 6:
      return /x+/gi;
    case 7:
      return new URL("http://127.0.0.1/x");
    case 8:
      return new Error("boom");
    case 9:
      return rng.pick([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0]);
    case 10:
      return [undefined, Number.NaN, new Date(Number.NaN)];
    case 11:
      return { nested: new Map([["k", new Set([1n])]]) };
    default:
      return null;
  }
}

function withOwnKey(target: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  // `__proto__` as an own key, as JSON.parse makes it (an assignment would set the prototype).
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return target;
}

/** Any value of any type at any depth up to `depth`. */
export function anyValue(rng: FuzzRandom, depth = 4, keys: readonly string[] = []): unknown {
  const leafOnly = depth <= 0;
  switch (rng.int(0, leafOnly ? 6 : 9)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return anyNumber(rng);
    case 3:
    case 4:
      return anyString(rng);
    case 5:
      return superjsonSpecial(rng);
    case 6:
      return rng.chance(0.5) ? {} : [];
    case 7:
      return Array.from({ length: rng.int(0, 4) }, () => anyValue(rng, depth - 1, keys));
    default: {
      const object: Record<string, unknown> = {};
      for (let index = rng.int(0, 4); index > 0; index--) {
        const key =
          rng.chance(0.4) && keys.length > 0
            ? rng.pick(keys)
            : rng.chance(0.2)
              ? rng.pick(PROTO_KEYS)
              : anyString(rng);
        withOwnKey(object, key, anyValue(rng, depth - 1, keys));
      }
      return object;
    }
  }
}

// ---------------------------------------------------------------- schema-shaped inputs

interface TZodDef {
  type: string;
  [key: string]: unknown;
}

function defOf(schema: unknown): TZodDef | null {
  const def = (schema as { _zod?: { def?: TZodDef } } | null)?._zod?.def;
  return def && typeof def.type === "string" ? def : null;
}

const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "catch", "readonly", "nonoptional"]);

/** Every object field the schema knows, through wrappers, pipes and unions (keys of the first seen win). */
export function fieldsOf(
  schema: unknown,
  found = new Map<string, unknown>(),
  depth = 0,
): Map<string, unknown> {
  const def = defOf(schema);
  if (!def || depth > 8) return found;
  if (WRAPPERS.has(def.type)) return fieldsOf(def.innerType, found, depth + 1);
  if (def.type === "pipe") {
    fieldsOf(def.in, found, depth + 1);
    return fieldsOf(def.out, found, depth + 1);
  }
  if (def.type === "union") {
    for (const option of def.options as unknown[]) fieldsOf(option, found, depth + 1);
  }
  if (def.type === "intersection") {
    fieldsOf(def.left, found, depth + 1);
    fieldsOf(def.right, found, depth + 1);
  }
  if (def.type === "object") {
    for (const [key, field] of Object.entries(def.shape as Record<string, unknown>)) {
      if (!found.has(key)) found.set(key, field);
    }
  }
  return found;
}

/** A value shaped like `schema` wants, often right, sometimes not. */
export function sampleFor(rng: FuzzRandom, schema: unknown, depth = 0): unknown {
  const def = defOf(schema);
  if (!def || depth > 6) return anyValue(rng, 2);
  switch (def.type) {
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "catch":
    case "readonly":
    case "nonoptional":
      if (rng.chance(0.1)) return rng.chance(0.5) ? undefined : null;
      return sampleFor(rng, def.innerType, depth + 1);
    case "pipe": {
      const inner = defOf(def.in);
      return sampleFor(rng, inner?.type === "transform" ? def.out : def.in, depth + 1);
    }
    case "lazy":
      return sampleFor(rng, (def.getter as () => unknown)(), depth + 1);
    case "union":
      return sampleFor(rng, rng.pick(def.options as unknown[]), depth + 1);
    case "intersection":
      return sampleFor(rng, rng.pick([def.left, def.right]), depth + 1);
    case "object": {
      const object: Record<string, unknown> = {};
      for (const [key, field] of Object.entries(def.shape as Record<string, unknown>)) {
        if (rng.chance(0.85)) object[key] = sampleFor(rng, field, depth + 1);
      }
      return object;
    }
    case "string":
      return rng.chance(0.75) ? rng.pick(PLAUSIBLE_STRINGS) : hostileString(rng);
    case "number":
      return anyNumber(rng);
    case "bigint":
      return rng.pick([0n, 1n, -1n, 2n ** 64n]);
    case "boolean":
      return rng.chance(0.9) ? rng.chance(0.5) : anyValue(rng, 0);
    case "date":
      return rng.chance(0.7) ? new Date(Date.UTC(2024, 0, rng.int(1, 28))) : new Date(Number.NaN);
    case "enum": {
      const values = Object.values(def.entries as Record<string, unknown>);
      return rng.chance(0.85) && values.length > 0 ? rng.pick(values) : anyString(rng);
    }
    case "literal":
      return rng.chance(0.85) ? rng.pick(def.values as unknown[]) : anyValue(rng, 0);
    case "array":
      return Array.from({ length: rng.int(0, 3) }, () => sampleFor(rng, def.element, depth + 1));
    case "record": {
      const record: Record<string, unknown> = {};
      for (let index = rng.int(0, 3); index > 0; index--) {
        withOwnKey(
          record,
          rng.chance(0.8) ? rng.pick(PLAUSIBLE_STRINGS) : hostileString(rng),
          sampleFor(rng, def.valueType, depth + 1),
        );
      }
      return record;
    }
    case "void":
    case "undefined":
      return undefined;
    case "null":
      return null;
    default:
      return anyValue(rng, 2);
  }
}

/** Breaks `input` in one to three places: a wrong value, a missing field, an extra or prototype key. */
export function breakInput(rng: FuzzRandom, input: unknown, keys: readonly string[]): unknown {
  let value = input;
  for (let round = rng.int(1, 3); round > 0; round--) {
    const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
    const op = rng.int(0, isObject ? 6 : 1);
    if (op === 0) return anyValue(rng, 3, keys);
    if (op === 1) {
      value = rng.chance(0.5) ? [value] : superjsonSpecial(rng);
      continue;
    }
    const object = value as Record<string, unknown>;
    const present = Object.keys(object);
    if (op === 2 && present.length > 0) {
      delete object[rng.pick(present)];
    } else if (op === 3 && keys.length > 0) {
      object[rng.pick(keys)] = anyValue(rng, 2, keys);
    } else if (op === 4 && keys.length > 0) {
      object[rng.pick(keys)] = rng.chance(0.5) ? hostileString(rng) : superjsonSpecial(rng);
    } else if (op === 5) {
      withOwnKey(
        object,
        rng.pick(PROTO_KEYS),
        rng.chance(0.5) ? { polluted: true, role: "admin" } : anyValue(rng, 1),
      );
    } else {
      withOwnKey(object, anyString(rng), anyValue(rng, 2, keys));
    }
  }
  return value;
}

// ---------------------------------------------------------------- requests

export interface TFuzzRequest {
  category: string;
  method: string;
  /** What follows `/api/trpc/`: the procedure path(s) and the query string. */
  target: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/**
 * `value` as a superjson envelope. superjson refuses to write objects with
 * prototype keys, which a hand-written client can still send: those go as
 * plain JSON inside the envelope (bigints as text).
 */
export function encodeInput(value: unknown): string {
  try {
    return superjson.stringify(value);
  } catch {
    const json = JSON.stringify(toPlainJson(value));
    return json === undefined ? "{}" : `{"json":${json}}`;
  }
}

/** `{"json": value}` without superjson's annotations: what a hand-written client sends. */
export function plainEnvelope(value: unknown): string {
  return JSON.stringify({ json: toPlainJson(value) ?? null });
}

/** `value` as plain JSON text (dates and bigints as strings, Maps and Sets as arrays). */
export function plainJson(value: unknown): string {
  return JSON.stringify(toPlainJson(value) ?? null);
}

// What superjson would have written without its annotations; prototype keys stay own keys.
function toPlainJson(value: unknown): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  if (typeof value === "bigint") return String(value);
  if (value instanceof Map) return [...value].map(toPlainJson);
  if (value instanceof Set) return [...value].map(toPlainJson);
  if (Array.isArray(value)) return value.map(toPlainJson);
  if (typeof value !== "object" || value === null) return value;
  const plain: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) withOwnKey(plain, key, toPlainJson(item));
  return plain;
}

/** `text` as UTF-8 percent-escapes; unlike encodeURIComponent it takes lone surrogates (as U+FFFD). */
export function percentEncoded(text: string): string {
  return Buffer.from(text).toString("hex").replace(/../g, "%$&");
}

/** `?input=…` for a GET of `value` through superjson. */
export function queryTarget(path: string, value: unknown): string {
  return `${path}?input=${encodeURIComponent(encodeInput(value))}`;
}

export function jsonPost(category: string, path: string, body: string): TFuzzRequest {
  return { category, method: "POST", target: path, headers: { "content-type": "application/json" }, body };
}

/** The request a well-behaved client sends for `value`, right method and all. */
export function superjsonRequest(category: string, procedure: TFuzzProcedure, value: unknown): TFuzzRequest {
  if (procedure.type === "mutation") return jsonPost(category, procedure.path, encodeInput(value));
  return { category, method: "GET", target: queryTarget(procedure.path, value), headers: {} };
}

/** `{"a":{"a":…1…}}` or `[[…]]`, `depth` levels, built as text: no stack is used to make it. */
export function deeplyNested(depth: number, kind: "object" | "array", key = "a"): string {
  const open = kind === "object" ? `{${JSON.stringify(key)}:` : "[";
  const close = kind === "object" ? "}" : "]";
  return `${open.repeat(depth)}1${close.repeat(depth)}`;
}

/** superjson's annotation tree for a value nested `depth` deep: `["set", {"0": ["set", …]}]`. */
export function deepAnnotation(depth: number): string {
  return `${'["set",{"0":'.repeat(depth)}["undefined"]${"}]".repeat(depth)}`;
}

export const NON_JSON_BODIES: readonly (string | Uint8Array)[] = [
  "",
  " ",
  "not json",
  "{",
  "[1,",
  "{'json':1}",
  '{"json":}',
  '{"json":1}garbage',
  "undefined",
  "NaN",
  "Infinity",
  "-",
  "\u0000",
  '"\\ud800"',
  '{"json":"\\u0000"}',
  "<xml><json/></xml>",
  "json=1&meta=2",
  "--x\r\nContent-Disposition: form-data; name=json\r\n\r\n1\r\n--x--\r\n",
  `${"[".repeat(100_000)}`,
  `${"{".repeat(50_000)}`,
  '{"json":1e999999}',
  '{"json":{"a":1,"a":2}}',
  "\ufeff{}",
  new Uint8Array([0xff, 0xfe, 0xfd, 0x00, 0x80, 0xc0]),
  new Uint8Array([0x7b, 0x22, 0x6a, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
  new Uint8Array(4096),
];

export const CONTENT_TYPES: readonly (string | null)[] = [
  null,
  "",
  "text/plain",
  "text/html",
  "application/xml",
  "application/x-www-form-urlencoded",
  "multipart/form-data",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
  "application/jsonl",
  "application/json5",
  "application/json-patch+json",
  "APPLICATION/JSON",
  "application/json; charset=utf-16",
  "application/json;;;",
  "application/json, text/plain",
  "*/*",
  "json",
];

/** Broken `meta` for a superjson envelope whose `json` is `json`. */
export function brokenEnvelope(rng: FuzzRandom, json: unknown, keys: readonly string[]): string {
  const key = keys.length > 0 && rng.chance(0.7) ? rng.pick(keys) : "a";
  const jsonText = JSON.stringify(json) ?? "null";
  const annotation = rng.pick([
    '["bogus"]',
    '["Date"]',
    '["bigint"]',
    '["number"]',
    '["map"]',
    '["set"]',
    '["regexp"]',
    '["Error"]',
    '["URL"]',
    '["undefined"]',
    '["class","Nope"]',
    '["custom","Nope"]',
    '["symbol","Nope"]',
    '["typed-array","Int8Array"]',
    '["typed-array","Nope"]',
    "[]",
    "[null]",
    "[1]",
    '"undefined"',
    "null",
    "{}",
  ]);
  const path = rng.pick([
    JSON.stringify(key),
    '"__proto__"',
    '"__proto__.polluted"',
    '"constructor.prototype.polluted"',
    `"${key}.__proto__"`,
    `"${key}.0.1.2"`,
    '"no.such.path"',
    '""',
    '"\\\\."',
  ]);
  switch (rng.int(0, 11)) {
    case 0:
      return `{"json":${jsonText},"meta":{"values":{${path}:${annotation}}}}`;
    case 1:
      return `{"json":${jsonText},"meta":{"values":${rng.pick(['"garbage"', "1", "null", "true", "[]", '["bogus"]', "[[]]"])}}}`;
    case 2:
      return `{"json":${jsonText},"meta":${rng.pick(['"x"', "1", "null", "[]", "true"])}}`;
    case 3:
      return `{"json":${jsonText},"meta":{"referentialEqualities":{${path}:[${rng.pick(['"b"', '"__proto__"', "1", '"constructor.prototype"', '"a.b.c.d"'])}]}}}`;
    case 4:
      return `{"json":${jsonText},"meta":{"referentialEqualities":${rng.pick(['["x"]', '"x"', '[["a",["b"]]]', "1"])}}}`;
    case 5:
      return `{"meta":{"values":{${path}:${annotation}}}}`;
    case 6:
      return `{"json":{"json":${jsonText}},"meta":{"values":{"json":["undefined"]}}}`;
    case 7:
      return `{"json":${jsonText},"meta":{"values":${deepAnnotation(rng.int(2, 50))}}}`;
    case 8:
      return `{"json":${jsonText},"meta":{"v":${rng.pick(["1", "2", '"x"', "-1"])},"values":{${path}:${annotation}}}}`;
    case 9:
      return `{"json":${jsonText},"extra":${plainJson(anyValue(rng, 2))}}`;
    case 10:
      return `{"json":{${JSON.stringify(key)}:[[1,2],["__proto__",{"polluted":true}]]},"meta":{"values":{${path}:["map"]}}}`;
    default:
      return `{"json":${jsonText},"json":null}`;
  }
}

// ---------------------------------------------------------------- what the server will do

export type TCallOutcome =
  /** Refused before the procedure runs: must be a 4xx. */
  | "refused"
  /** A query with an input it accepts: any answer but a 5xx. */
  | "valid-query"
  /** A mutation with an input it accepts: the fuzzer must not send it. */
  | "valid-mutation";

export interface TPrediction {
  /** One per call (one for a plain request, one per path for a batch). */
  calls: TCallOutcome[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const METHODS_OF: Record<TFuzzProcedure["type"], readonly string[]> = {
  query: ["GET"],
  mutation: ["POST"],
  subscription: ["GET"],
};

/**
 * What tRPC 11's fetch-level handler does with `request` before any procedure
 * runs, replayed with the same Fetch API, JSON reader and superjson.
 */
export async function predictRequest(
  request: TFuzzRequest,
  procedures: ReadonlyMap<string, TFuzzProcedure>,
): Promise<TPrediction> {
  const url = new URL(`http://fuzz.test/api/trpc/${request.target}`);
  const rawPath = url.pathname.slice("/api/trpc/".length);
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return { calls: ["refused"] };
  }
  const isBatch = url.searchParams.get("batch") === "1";
  const paths = isBatch ? path.split(",") : [path];
  const refusedAll = { calls: paths.map((): TCallOutcome => "refused") };
  if (request.method === "HEAD") throw new Error("HEAD answers 204 without running anything; do not fuzz it");
  const bodyBytes =
    request.body === undefined
      ? 0
      : typeof request.body === "string"
        ? Buffer.byteLength(request.body)
        : request.body.byteLength;
  const hasBody = request.method !== "GET" && request.body !== undefined;
  if (hasBody && bodyBytes > MAX_REQUEST_BODY_BYTES) return refusedAll;

  const contentTypeHeader = Object.entries(request.headers).find(
    ([name]) => name.toLowerCase() === "content-type",
  );
  // fetch() labels a string body text/plain when no content type is given.
  const contentType =
    contentTypeHeader?.[1] ??
    (typeof request.body === "string" && hasBody ? "text/plain;charset=UTF-8" : null);
  const mediaType = contentType?.toLowerCase().split(";", 1)[0]?.trim();
  const localRequest = () =>
    new Request(url, {
      method: request.method,
      headers: contentType === null ? {} : { "content-type": contentType },
      ...(hasBody ? { body: request.body as BodyInit } : {}),
    });

  let inputs: unknown[];
  let type: TFuzzProcedure["type"] | undefined;
  const lookup = paths.map((each) => procedures.get(each));
  const types = new Set(lookup.flatMap((procedure) => (procedure ? [procedure.type] : [])));
  if (types.size > 1) return refusedAll;
  type = types.values().next().value;

  if (mediaType === "multipart/form-data" || mediaType === "application/octet-stream") {
    if (request.method !== "POST" || isBatch) return refusedAll;
    try {
      inputs = [mediaType === "multipart/form-data" ? await localRequest().formData() : new ReadableStream()];
    } catch {
      return refusedAll;
    }
    type = "mutation";
  } else if (mediaType === "application/json" || request.method === "GET") {
    let raw: unknown;
    try {
      if (request.method === "GET") {
        const text = url.searchParams.get("input");
        raw = text ? JSON.parse(text) : undefined;
      } else {
        raw = await localRequest().json();
      }
      if (raw === undefined) inputs = paths.map(() => undefined);
      else if (!isBatch) inputs = [superjson.deserialize(raw as never)];
      else if (!isPlainObject(raw)) return refusedAll;
      else {
        const object = raw;
        inputs = paths.map((_, index) =>
          object[index] === undefined ? undefined : superjson.deserialize(object[index] as never),
        );
      }
    } catch {
      return refusedAll;
    }
  } else {
    return refusedAll;
  }

  const calls: TCallOutcome[] = [];
  for (const [index, procedure] of lookup.entries()) {
    if (!procedure || !type || !METHODS_OF[procedure.type].includes(request.method)) {
      calls.push("refused");
    } else if (procedure.type !== type || (isBatch && procedure.type === "subscription")) {
      calls.push("refused");
    } else if (!(await inputAccepted(procedure, inputs[index]))) {
      calls.push("refused");
    } else {
      calls.push(procedure.type === "mutation" ? "valid-mutation" : "valid-query");
    }
  }
  return { calls };
}

/** At most `max` characters of `text`, with the length said when cut. */
export function truncate(text: string, max = 300): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} chars)`;
}
