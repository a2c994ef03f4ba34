import { describe, expect, it } from "vitest";
import { MAX_SAMPLES_PER_BATCH, ZMetricsFrame } from "./agent-to-server";
import { parseAgentFrame } from "./frame";
import { checkMetricsFrame } from "./metrics-frame-check";
import { makeContainerSample, makeHostSample, makeMetrics } from "./test-factories";

const ABSENT = Symbol("absent");

// Values a field may be given: the ones zod refuses somewhere and the edges it accepts.
const VALUES: unknown[] = [
  ABSENT,
  null,
  0,
  -0,
  1,
  -1,
  1.5,
  -1e-9,
  2 ** 53,
  2 ** 53 - 1,
  1e300,
  "1",
  "",
  "c-1",
  "C-1",
  "c 1",
  "c_1",
  "c".repeat(64),
  "c".repeat(65),
  true,
  [],
  {},
  [1],
];

type Json = Record<string, unknown>;

function withField(object: Json, key: string, value: unknown): Json {
  const copy = { ...object };
  if (value === ABSENT) delete copy[key];
  else copy[key] = value;
  return copy;
}

/** Frames a field away from a valid one, at every level. */
function variants(): { what: string; frame: Json }[] {
  const valid = makeMetrics({
    containers: [makeContainerSample(), makeContainerSample({ containerId: "c-2", memoryLimitBytes: null })],
  }) as unknown as Json;
  const [first, second] = valid.containers as Json[];
  const host = valid.host as Json;
  const out: { what: string; frame: Json }[] = [{ what: "valid", frame: valid }];
  for (const value of VALUES) {
    const shown = typeof value === "symbol" ? "absent" : JSON.stringify(value);
    for (const key of [...Object.keys(valid), "extra"])
      out.push({ what: `${key}=${shown}`, frame: withField(valid, key, value) });
    for (const key of [...Object.keys(first as Json), "extra"])
      out.push({
        what: `containers[1].${key}=${shown}`,
        frame: { ...valid, containers: [first, withField(second as Json, key, value)] },
      });
    for (const key of [...Object.keys(host), "extra"])
      out.push({ what: `host.${key}=${shown}`, frame: { ...valid, host: withField(host, key, value) } });
    out.push({ what: `containers[1]=${shown}`, frame: { ...valid, containers: [first, value] } });
  }
  return out;
}

describe("checkMetricsFrame", () => {
  const cases = variants();

  it("accepts only what ZMetricsFrame accepts, and then exactly what it would give", () => {
    let fast = 0;
    let refused = 0;
    for (const { what, frame } of cases) {
      // Through JSON, as frames arrive: absent stays absent, and only JSON's values occur.
      const json = JSON.parse(JSON.stringify(frame)) as Json;
      const zod = ZMetricsFrame.safeParse(json);
      const checked = checkMetricsFrame(JSON.parse(JSON.stringify(frame)) as Json);
      if (!zod.success) refused++;
      if (checked === null) continue;
      fast++;
      expect(zod.success, what).toBe(true);
      expect(checked, what).toEqual(zod.data);
    }
    // The cases do exercise both sides.
    expect(refused).toBeGreaterThan(500);
    expect(fast).toBeGreaterThan(100);
  });

  it("takes a valid frame as it is and leaves one with a key zod strips to zod", () => {
    const json = JSON.parse(JSON.stringify(makeMetrics())) as Json;
    expect(checkMetricsFrame(json)).toBe(json);
    const frame = makeMetrics();
    const extra = { ...frame, futureField: 1 };
    expect(checkMetricsFrame(JSON.parse(JSON.stringify(extra)) as Json)).toBeNull();
    expect(parseAgentFrame(JSON.stringify(extra))).toEqual({ ok: true, frame });
  });

  it("leaves infinities, oversize batches and a host without cpus to zod", () => {
    const infinite = JSON.stringify(makeMetrics()).replace('"cpuCores":0.25', '"cpuCores":1e999');
    expect(checkMetricsFrame(JSON.parse(infinite) as Json)).toBeNull();
    const sample = makeContainerSample();
    const big = makeMetrics({ containers: Array.from({ length: MAX_SAMPLES_PER_BATCH + 1 }, () => sample) });
    expect(checkMetricsFrame(big as unknown as Json)).toBeNull();
    const noCpus = makeMetrics({ host: makeHostSample({ cpuCount: 0 }) });
    expect(checkMetricsFrame(noCpus as unknown as Json)).toBeNull();
  });
});
