import { describe, expect, it } from "vitest";
import { hashContainerSpec } from "../domain/spec-hash";
import { AGENT_FRAME_TYPES, MAX_SAMPLES_PER_BATCH, type TAgentFrame, ZMetricsFrame } from "./agent-to-server";
import {
  describeIssues,
  encodeFrame,
  FrameTooLargeError,
  parseAgentFrame,
  parseServerFrame,
  type TFrameParseResult,
  utf8ByteLength,
} from "./frame";
import { SERVER_FRAME_TYPES, type TDesiredContainer, type TServerFrame } from "./server-to-agent";
import {
  agentFrameFactories,
  makeAck,
  makeContainerSample,
  makeContainerSpec,
  makeContainerStatus,
  makeDesired,
  makeDesiredContainer,
  makeEvent,
  makeHeartbeat,
  makeHello,
  makeLogsOperation,
  makeMetrics,
  makeOpFailure,
  makeOpProgress,
  makeOpRequest,
  makeOpResult,
  makeUploadChunk,
  makeWelcome,
  serverFrameFactories,
} from "./test-factories";
import { MAX_FRAME_BYTES } from "./version";

function expectError<F>(result: TFrameParseResult<F>, pattern: RegExp): void {
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.error).toMatch(pattern);
}

/** JSON of a frame with one field changed (or removed, with `undefined`) at a dotted path. */
function tamper(frame: object, path: string, value: unknown): string {
  const copy = structuredClone(frame) as Record<string, unknown>;
  const keys = path.split(".");
  let target: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
  const last = keys.at(-1) as string;
  if (value === undefined) delete target[last];
  else target[last] = value;
  return JSON.stringify(copy);
}

describe("round trips", () => {
  it("has one factory per frame type", () => {
    expect(Object.keys(agentFrameFactories).sort()).toEqual([...AGENT_FRAME_TYPES].sort());
    expect(Object.keys(serverFrameFactories).sort()).toEqual([...SERVER_FRAME_TYPES].sort());
  });

  it.each(AGENT_FRAME_TYPES)("agent frame %s", (type) => {
    const frame = agentFrameFactories[type]();
    expect(parseAgentFrame(encodeFrame(frame))).toEqual({ ok: true, frame });
  });

  it.each(SERVER_FRAME_TYPES)("server frame %s", (type) => {
    const frame = serverFrameFactories[type]();
    expect(parseServerFrame(encodeFrame(frame))).toEqual({ ok: true, frame });
  });

  it.each<[string, TAgentFrame]>([
    [
      "a credential hello",
      makeHello({ auth: { kind: "credential", hostId: "host_01", credential: "secret" } }),
    ],
    ["a heartbeat before any ack", makeHeartbeat({ ackedGeneration: null })],
    [
      "a failed container",
      makeContainerStatus({
        state: "failed",
        engineId: null,
        exitCode: 137,
        oomKilled: true,
        finishedAt: "2025-01-01T00:01:00+02:00",
        message: "pull failed: manifest unknown",
      }),
    ],
    ["metrics without a host sample", makeMetrics({ host: null, droppedSamples: 12, containers: [] })],
    ["an event without data", makeEvent({ kind: "agent.warning", containerId: undefined, data: undefined })],
    [
      "pull progress",
      makeOpProgress({
        data: { kind: "progress", status: "Downloading", id: "a1b2", current: 5, total: 10 },
      }),
    ],
    ["build output", makeOpProgress({ data: { kind: "output", line: "Step 1/3 : FROM scratch" } })],
    ["an op failure", makeOpFailure({ error: { code: "timeout", message: "gave up after 30s" } })],
    [
      "an image.pull result",
      makeOpResult({ kind: "image.pull", result: { digest: `sha256:${"b".repeat(64)}` } }),
    ],
    ["an image.push result without digest", makeOpResult({ kind: "image.push", result: { digest: null } })],
    [
      "an image.build result",
      makeOpResult({ kind: "image.build", result: { imageId: `sha256:${"c".repeat(64)}` } }),
    ],
    [
      "an image.remove result",
      makeOpResult({ kind: "image.remove", result: { untagged: ["busybox:latest"], deleted: [] } }),
    ],
    [
      "an image.list result",
      makeOpResult({
        kind: "image.list",
        result: {
          images: [
            {
              id: `sha256:${"d".repeat(64)}`,
              tags: ["127.0.0.1:5000/fleet/busybox:1.36"],
              digests: [`127.0.0.1:5000/fleet/busybox@sha256:${"e".repeat(64)}`],
              sizeBytes: 1_234_567,
              createdAt: "2024-12-31T23:59:59Z",
            },
          ],
        },
      }),
    ],
  ])("agent: %s", (_what, frame) => {
    expect(parseAgentFrame(encodeFrame(frame))).toEqual({
      ok: true,
      frame: JSON.parse(JSON.stringify(frame)),
    });
  });

  it.each<[string, TServerFrame]>([
    ["a welcome without credential", makeWelcome({ credential: undefined })],
    ["an empty desired set", makeDesired({ containers: [] })],
    ["a final upload chunk of zero bytes", makeUploadChunk({ data: "", seq: 3 })],
    [
      "an image.pull with auth",
      makeOpRequest({ op: { kind: "image.pull", image: "busybox", auth: { username: "u", password: "p" } } }),
    ],
    ["an image.list", makeOpRequest({ op: { kind: "image.list" } })],
    [
      "an image.remove by id",
      makeOpRequest({ op: { kind: "image.remove", image: `sha256:${"f".repeat(64)}`, force: true } }),
    ],
    [
      "an image.build",
      makeOpRequest({
        op: {
          kind: "image.build",
          tag: "127.0.0.1:5000/app:1",
          dockerfile: "docker/Dockerfile",
          uploadId: "up-1",
        },
      }),
    ],
    ["an image.push", makeOpRequest({ op: { kind: "image.push", image: "127.0.0.1:5000/app:1" } })],
  ])("server: %s", (_what, frame) => {
    expect(parseServerFrame(encodeFrame(frame))).toEqual({
      ok: true,
      frame: JSON.parse(JSON.stringify(frame)),
    });
  });

  it("accepts binary messages, fragments and ArrayBuffers", () => {
    const text = encodeFrame(makeAck());
    const bytes = new TextEncoder().encode(text);
    const expected = { ok: true, frame: makeAck() };
    expect(parseAgentFrame(bytes)).toEqual(expected);
    expect(parseAgentFrame(bytes.buffer)).toEqual(expected);
    expect(parseAgentFrame([bytes.subarray(0, 5), bytes.subarray(5)])).toEqual(expected);
    // A view into a larger buffer must read only its own bytes.
    const padded = new Uint8Array(bytes.length + 8);
    padded.set(bytes, 4);
    expect(parseAgentFrame(padded.subarray(4, 4 + bytes.length))).toEqual(expected);
  });

  it("strips unknown keys, so a newer peer's additions are ignored", () => {
    const raw = JSON.stringify({ ...makeAck(), futureField: "x" });
    expect(parseAgentFrame(raw)).toEqual({ ok: true, frame: makeAck() });
  });

  it("reads a desired entry without runState as running and a set without bindMountPrefixes as none allowed, and keeps runState out of the spec hash", () => {
    const spec = makeContainerSpec();
    const result = parseServerFrame(JSON.stringify({ type: "desired", generation: 1, containers: [spec] }));
    expect(result).toEqual({
      ok: true,
      frame: {
        type: "desired",
        generation: 1,
        containers: [{ ...spec, runState: "running" }],
        bindMountPrefixes: [],
      },
    });
    const stopped = makeDesiredContainer({ runState: "stopped" });
    const { runState: _, ...stoppedSpec } = stopped;
    expect(hashContainerSpec(stopped)).toBe(hashContainerSpec(stoppedSpec));
    const running: TDesiredContainer = { ...stopped, runState: "running" };
    expect(hashContainerSpec(running)).toBe(hashContainerSpec(stopped));
  });

  it("reads a desired set's bind mount prefixes by the central's rule: normalized, never / or relative", () => {
    const frame = (bindMountPrefixes: unknown) =>
      parseServerFrame(JSON.stringify({ type: "desired", generation: 1, containers: [], bindMountPrefixes }));
    expect(frame(["/srv/data/", "/srv//data", "/opt"])).toMatchObject({
      ok: true,
      frame: { bindMountPrefixes: ["/srv/data", "/opt"] },
    });
    for (const bad of [["/"], ["srv/data"], ["/srv/../etc"], "/srv"]) {
      expect(frame(bad)).toMatchObject({ ok: false });
    }
  });

  it("fills in defaults of operations", () => {
    const raw = JSON.stringify({
      type: "op.request",
      id: "op-9",
      timeoutMs: 1000,
      op: { kind: "logs", containerId: "c-1" },
    });
    const result = parseServerFrame(raw);
    expect(result).toEqual({
      ok: true,
      frame: {
        type: "op.request",
        id: "op-9",
        timeoutMs: 1000,
        op: { kind: "logs", containerId: "c-1", tail: 100, follow: false, stdout: true, stderr: true },
      },
    });
  });
});

describe("rejections", () => {
  it.each<[string, string, RegExp]>([
    ["invalid JSON", "{not json", /^frame is not valid JSON/],
    ["an array", "[1,2]", /^frame must be a JSON object$/],
    ["null", "null", /^frame must be a JSON object$/],
    ["a number", "42", /^frame must be a JSON object$/],
    ["a string", '"hello"', /^frame must be a JSON object$/],
    ["no type", "{}", /no string "type" field/],
    ["a numeric type", '{"type":1}', /no string "type" field/],
    [
      "an unknown type",
      '{"type":"reboot"}',
      /unknown agent frame type "reboot" \(expected one of hello, heartbeat/,
    ],
    ["a server-only type", '{"type":"desired"}', /unknown agent frame type "desired"/],
  ])("agent: %s", (_what, raw, pattern) => {
    expectError(parseAgentFrame(raw), pattern);
  });

  it.each<[string, string, RegExp]>([
    [
      "a missing field",
      tamper(makeHello(), "facts", undefined),
      /^invalid "hello" frame: facts: Invalid input/,
    ],
    [
      "a wrong field type",
      tamper(makeHeartbeat(), "containers", "3"),
      /^invalid "heartbeat" frame: containers: .*expected number/,
    ],
    ["a negative generation", tamper(makeAck(), "generation", -1), /generation: Too small/],
    ["a fractional generation", tamper(makeAck(), "generation", 1.5), /generation: .*expected int/],
    ["an unknown auth kind", tamper(makeHello(), "auth.kind", "password"), /auth\.kind: /],
    ["an empty join token", tamper(makeHello(), "auth.joinToken", ""), /auth\.joinToken: Too small/],
    ["an oversize host name", tamper(makeHello(), "name", "h".repeat(129)), /name: Too big/],
    ["zero cpus", tamper(makeHello(), "facts.cpus", 0), /facts\.cpus: Too small/],
    ["an unknown state", tamper(makeContainerStatus(), "state", "paused"), /state: /],
    [
      "a non-ISO time",
      tamper(makeContainerStatus(), "startedAt", "yesterday"),
      /startedAt: Invalid ISO datetime/,
    ],
    ["a message over 4 KiB", tamper(makeContainerStatus(), "message", "m".repeat(4097)), /message: Too big/],
    ["an unknown event kind", tamper(makeEvent(), "kind", "container.exploded"), /kind: /],
    ["event data with objects", tamper(makeEvent(), "data", { nested: { a: 1 } }), /data\.nested: /],
    [
      "event data with too many entries",
      tamper(makeEvent(), "data", Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]))),
      /at most 32 data entries/,
    ],
    [
      "a log line over 16 KiB",
      tamper(makeOpProgress(), "data.line", "x".repeat(16 * 1024 + 1)),
      /data\.line: Too big/,
    ],
    ["a result of the wrong kind", tamper(makeOpResult(), "kind", "image.pull"), /result\.digest: /],
    ["an unknown op error code", tamper(makeOpFailure(), "error.code", "oops"), /error\.code: /],
    ["a bad op id", tamper(makeOpResult(), "id", "op 1"), /id: must be 1-64 letters/],
    ["an op result with a non-boolean ok", tamper(makeOpFailure(), "ok", "maybe"), /ok: /],
    ["an error frame with an unknown code", tamper(makeOpFailure(), "type", "error"), /code: /],
  ])("agent: %s", (_what, raw, pattern) => {
    expectError(parseAgentFrame(raw), pattern);
  });

  it("rejects NaN and infinities, which JSON can only smuggle in as null or strings", () => {
    const sample = makeContainerSample();
    const raw = JSON.stringify(makeMetrics({ containers: [{ ...sample, cpuCores: Number.NaN }] }));
    expectError(parseAgentFrame(raw), /containers\[0\]\.cpuCores: .*expected number, received null/);
    // 1e999 is valid JSON text that parses to Infinity.
    const infinite = encodeFrame(makeMetrics({ containers: [sample] })).replace(
      '"cpuCores":0.25',
      '"cpuCores":1e999',
    );
    expectError(parseAgentFrame(infinite), /containers\[0\]\.cpuCores: /);
  });

  it("rejects negative counters", () => {
    const raw = tamper(
      makeMetrics({ containers: [makeContainerSample({ netRxBytes: -5 })] }),
      "droppedSamples",
      0,
    );
    expectError(parseAgentFrame(raw), /containers\[0\]\.netRxBytes: Too small/);
  });

  it("rejects too many samples in a batch", () => {
    // Checked on the schema: a batch this large is also over MAX_FRAME_BYTES, which parseAgentFrame checks first.
    const sample = makeContainerSample();
    const frame = makeMetrics({
      containers: Array.from({ length: MAX_SAMPLES_PER_BATCH + 1 }, () => sample),
    });
    const result = ZMetricsFrame.safeParse(frame);
    expect(result.success).toBe(false);
    expect(describeIssues(result.error?.issues ?? [])).toMatch(
      /^containers: Too big: expected array to have <=5000 items$/,
    );
  });

  it("lists at most three issues and counts the rest", () => {
    const raw = JSON.stringify({ type: "heartbeat" });
    expectError(
      parseAgentFrame(raw),
      /^invalid "heartbeat" frame: ts: .*; containers: .*; ackedGeneration: [^;]*$/,
    );
    const worse = JSON.stringify({ type: "hello" });
    expectError(parseAgentFrame(worse), /\(and 3 more\)$/);
  });

  it.each<[string, string, RegExp]>([
    ["an unknown type", '{"type":"hello"}', /unknown server frame type "hello"/],
    [
      "a spec with a bad image",
      tamper(makeDesired({ containers: [makeContainerSpec()] }), "containers", [
        { ...makeContainerSpec(), image: "Bad" },
      ]),
      /containers\[0\]\.image: invalid image reference "Bad"/,
    ],
    [
      "duplicate container ids",
      JSON.stringify(
        makeDesired({ containers: [makeContainerSpec({ id: "c-x" }), makeContainerSpec({ id: "c-x" })] }),
      ),
      /containers\[1\]\.id: duplicate container id "c-x"/,
    ],
    [
      "duplicate container names",
      JSON.stringify(
        makeDesired({ containers: [makeContainerSpec({ name: "web" }), makeContainerSpec({ name: "web" })] }),
      ),
      /containers\[1\]\.name: duplicate container name "web"/,
    ],
    [
      "a container desired removed (removed ones are left out of the set)",
      JSON.stringify(makeDesired({ containers: [{ ...makeContainerSpec(), runState: "removed" as never }] })),
      /containers\[0\]\.runState: /,
    ],
    ["an unknown operation", tamper(makeOpRequest(), "op", { kind: "exec", cmd: "sh" }), /op\.kind: /],
    ["a tail over 10000", tamper(makeOpRequest(), "op.tail", 10_001), /op\.tail: Too big/],
    [
      "logs without any stream",
      JSON.stringify(makeOpRequest({ op: makeLogsOperation({ stdout: false, stderr: false }) })),
      /op: ask for stdout, stderr or both/,
    ],
    ["a zero timeout", tamper(makeOpRequest(), "timeoutMs", 0), /timeoutMs: Too small/],
    [
      "a build file outside the context",
      tamper(
        makeOpRequest({ op: { kind: "image.build", tag: "app:1", dockerfile: "Dockerfile", uploadId: "u" } }),
        "op.dockerfile",
        "../Dockerfile",
      ),
      /op\.dockerfile: must be a path inside/,
    ],
    ["chunk data that is not base64", tamper(makeUploadChunk(), "data", "not base64!"), /data: /],
    [
      "an oversize chunk",
      tamper(makeUploadChunk(), "data", "A".repeat(4 * Math.ceil((512 * 1024) / 3) + 4)),
      /data: Too big/,
    ],
    [
      "a too-short metrics interval",
      tamper(makeWelcome(), "settings.metricsIntervalMs", 10),
      /settings\.metricsIntervalMs: Too small/,
    ],
  ])("server: %s", (_what, raw, pattern) => {
    expectError(parseServerFrame(raw), pattern);
  });

  it("rejects a frame over MAX_FRAME_BYTES before parsing it", () => {
    // Not JSON at all: if the size were not checked first, the error would be about JSON.
    const huge = "x".repeat(MAX_FRAME_BYTES + 1);
    expectError(parseAgentFrame(huge), /^frame is at least 1048577 bytes, more than the 1048576 allowed$/);
    expectError(parseServerFrame(new TextEncoder().encode(huge)), /^frame is 1048577 bytes/);
    expectError(
      parseAgentFrame([new Uint8Array(MAX_FRAME_BYTES), new Uint8Array(1)]),
      /^frame is 1048577 bytes/,
    );
  });

  it("counts UTF-8 bytes, not characters", () => {
    // 400 000 three-byte characters: 1.2 MB although the string is shorter than the limit.
    const wide = "€".repeat(400_000);
    expect(wide.length).toBeLessThan(MAX_FRAME_BYTES);
    expectError(parseAgentFrame(wide), /^frame is 1200000 bytes/);
    // Just under the limit in bytes passes the size check and fails later, as JSON.
    const fits = "€".repeat(Math.floor(MAX_FRAME_BYTES / 3));
    expectError(parseAgentFrame(fits), /not valid JSON/);
  });

  it("rejects invalid UTF-8 in binary frames", () => {
    expectError(parseAgentFrame(new Uint8Array([0x7b, 0xff, 0x7d])), /not valid UTF-8/);
  });
});

describe("encodeFrame", () => {
  it("refuses to produce a frame the peer would reject for size", () => {
    const sample = makeContainerSample();
    const frame = makeMetrics({ containers: Array.from({ length: MAX_SAMPLES_PER_BATCH }, () => sample) });
    expect(() => encodeFrame(frame)).toThrow(FrameTooLargeError);
  });
});

describe("utf8ByteLength", () => {
  it.each(["", "abc", "é", "€", "😀", "a😀b€", "\ud800", "\udc00x"])("matches TextEncoder for %j", (text) => {
    expect(utf8ByteLength(text)).toBe(new TextEncoder().encode(text).length);
  });
});
