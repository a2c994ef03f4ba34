import { describe, expect, it } from "vitest";
import type { LogLine, LogOptions } from "../container-driver";
import { followAfterTail } from "./log-follow";

const T0 = Date.parse("2026-12-08T10:00:00Z");

/**
 * A log as Podman serves it: timestamps to the second, `since` keeping lines
 * after that instant, a tail read before the follow opens, and lines written
 * between any two requests (`writesBetween` per request).
 */
class FakeLog {
  readonly entries: { line: string; ms: number }[] = [];
  readonly requests: LogOptions[] = [];
  private next = 0;

  constructor(private readonly writesBetween: number) {}

  write(count: number, ms: number): void {
    for (let i = 0; i < count; i++) this.entries.push({ line: `n${++this.next}`, ms });
  }

  read = (opts: LogOptions): AsyncIterable<LogLine> => {
    this.requests.push(opts);
    const since = opts.since === undefined ? null : Number(opts.since) * 1000;
    const kept = () => this.entries.filter((e) => since === null || e.ms > since);
    const toLine = (e: { line: string; ms: number }): LogLine => ({
      stream: "stdout",
      line: e.line,
      ts: new Date(Math.floor(e.ms / 1000) * 1000).toISOString().replace(".000", ""),
    });
    const all = kept();
    const shown = opts.tail < 0 ? all : all.slice(Math.max(0, all.length - opts.tail));
    const self = this;
    return (async function* () {
      // Lines written after the engine read the file: a follow sees them, a plain read does not.
      self.write(self.writesBetween, (self.entries.at(-1)?.ms ?? T0) + 300);
      yield* shown.map(toLine);
      if (opts.follow) yield* self.entries.slice(self.entries.length - self.writesBetween).map(toLine);
    })();
  };
}

async function collect(lines: AsyncIterable<LogLine>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line.line);
  return out;
}

const follow = (tail: number, extra: Partial<LogOptions> = {}): LogOptions => ({
  tail,
  follow: true,
  stdout: true,
  stderr: true,
  ...extra,
});
const numbered = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, k) => `n${from + k}`);

describe("followAfterTail", () => {
  it("gives the newest lines as the follow opens, then every later one, none twice", async () => {
    const log = new FakeLog(3);
    log.write(10, T0);
    log.write(10, T0 + 1500);
    const lines = await collect(followAfterTail(log.read, follow(4), T0 + 2000));
    // The tail read saw n1..n20; n21..n23 came before the count, n24..n26 before the follow, n27..n29 during it.
    expect(lines).toEqual(numbered(20, 29));
    expect(log.requests.map((r) => [r.follow, r.tail, r.since])).toEqual([
      [false, 4, undefined],
      [false, -1, String(Math.floor(T0 / 1000))],
      [true, -1, String(Math.floor(T0 / 1000))],
    ]);
  });

  it("keeps tail lines older than the recent second, and skips no newer one", async () => {
    const log = new FakeLog(2);
    log.write(3, T0 - 3_600_000);
    log.write(1, T0);
    const lines = await collect(followAfterTail(log.read, follow(5), T0 + 100));
    // n1..n3 are only in the tail, n4 in the tail and the count, n5 and n6 only in the count.
    expect(lines).toEqual(numbered(2, 10));
  });

  it("with no tail, starts a second before the request and gives only what was written after the count", async () => {
    const log = new FakeLog(2);
    log.write(5, T0);
    const lines = await collect(followAfterTail(log.read, follow(0), T0 + 500));
    expect(log.requests.map((r) => r.since)).toEqual([
      String(Math.floor(T0 / 1000) - 1),
      String(Math.floor(T0 / 1000) - 1),
    ]);
    expect(lines).toEqual(numbered(6, 9));
  });

  it("keeps to a later `since` it was asked for", async () => {
    const log = new FakeLog(1);
    log.write(2, T0);
    log.write(2, T0 + 5200);
    const since = String(Math.floor(T0 / 1000) + 5);
    const lines = await collect(followAfterTail(log.read, follow(10, { since }), T0 + 6000));
    expect(log.requests.slice(1).map((r) => r.since)).toEqual([since, since]);
    expect(lines).toEqual(numbered(3, 7));
  });
});
