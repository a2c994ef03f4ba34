import { describe, expect, it } from "vitest";
import type { LogLine } from "../container-driver";
import { LogStreamDecoder } from "./log-decoder";

/** One multiplexed frame as the engines send it: type byte, 3 zero bytes, big-endian length, payload. */
function frame(stream: "stdout" | "stderr", payload: string | Buffer): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = stream === "stdout" ? 1 : 2;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

function decodeInChunks(
  data: Buffer,
  chunkSize: number,
  opts: ConstructorParameters<typeof LogStreamDecoder>[0],
) {
  const decoder = new LogStreamDecoder(opts);
  const lines: LogLine[] = [];
  for (let i = 0; i < data.length; i += chunkSize)
    lines.push(...decoder.push(data.subarray(i, i + chunkSize)));
  lines.push(...decoder.end());
  return lines;
}

const TS1 = "2026-11-27T18:46:18.953550405Z";
const TS2 = "2026-11-27T18:46:20Z";

describe("LogStreamDecoder", () => {
  // Docker: one frame per line, nanosecond timestamps.
  const docker = Buffer.concat([
    frame("stdout", `${TS1} out1\n`),
    frame("stderr", `${TS1} err1\n`),
    frame("stdout", `${TS1} partial\n`),
  ]);
  // Podman: a line written in two parts comes as two frames, second-precision timestamps.
  const podman = Buffer.concat([
    frame("stdout", `${TS2} out1\n`),
    frame("stdout", `${TS2} part`),
    frame("stderr", `${TS2} err1\n`),
    frame("stdout", "2026-11-27T18:46:21Z ial\n"),
  ]);

  it("separates stdout and stderr and strips timestamps, at every chunk size", () => {
    for (const size of [1, 2, 3, 7, 8, 9, 13, 64, 4096]) {
      expect(decodeInChunks(docker, size, { multiplexed: true, timestamps: true })).toEqual([
        { stream: "stdout", line: "out1", ts: TS1 },
        { stream: "stderr", line: "err1", ts: TS1 },
        { stream: "stdout", line: "partial", ts: TS1 },
      ]);
    }
  });

  it("joins a line split across frames (Podman) and keeps its first timestamp", () => {
    for (const size of [1, 5, 11, 4096]) {
      expect(decodeInChunks(podman, size, { multiplexed: true, timestamps: true })).toEqual([
        { stream: "stdout", line: "out1", ts: TS2 },
        { stream: "stderr", line: "err1", ts: TS2 },
        { stream: "stdout", line: "partial", ts: TS2 },
      ]);
    }
  });

  it("cuts an oversize line at the bound, marks it and drops the rest up to its newline", () => {
    const long = "x".repeat(40_000);
    const data = Buffer.concat([
      frame("stdout", `${TS1} ${long.slice(0, 16384)}`),
      frame("stdout", `${TS1} ${long.slice(16384)}\n`),
      frame("stdout", `${TS1} after\n`),
    ]);
    for (const size of [100, 16_000, 100_000]) {
      const lines = decodeInChunks(data, size, { multiplexed: true, timestamps: true, maxLineBytes: 1000 });
      expect(lines).toHaveLength(2);
      expect(lines[0]).toEqual({ stream: "stdout", line: "x".repeat(1000), ts: TS1, truncated: true });
      expect(lines[1]).toEqual({ stream: "stdout", line: "after", ts: TS1 });
    }
  });

  it("emits an over-long line as soon as it reaches the bound, without waiting for a newline", () => {
    const decoder = new LogStreamDecoder({ multiplexed: true, timestamps: false, maxLineBytes: 10 });
    expect(decoder.push(frame("stderr", "y".repeat(25)))).toEqual([
      { stream: "stderr", line: "y".repeat(10), truncated: true },
    ]);
    expect(decoder.push(frame("stderr", "zzz\nok\n"))).toEqual([{ stream: "stderr", line: "ok" }]);
  });

  it("does not split a UTF-8 character when cutting", () => {
    const decoder = new LogStreamDecoder({ multiplexed: true, timestamps: false, maxLineBytes: 5 });
    // "aaaé" is 5 bytes, "aaaaé" 6: the cut falls inside é and backs off before it.
    const [line] = decoder.push(frame("stdout", "aaaaé\n"));
    expect(line).toEqual({ stream: "stdout", line: "aaaa", truncated: true });
  });

  it("flushes an unterminated last line at the end, and strips CR", () => {
    const data = Buffer.concat([frame("stdout", "one\r\ntwo"), frame("stderr", "three")]);
    expect(decodeInChunks(data, 3, { multiplexed: true, timestamps: false })).toEqual([
      { stream: "stdout", line: "one" },
      { stream: "stdout", line: "two" },
      { stream: "stderr", line: "three" },
    ]);
  });

  it("reads a TTY container's raw stream as stdout", () => {
    const raw = Buffer.from("a\r\nb\nc");
    expect(decodeInChunks(raw, 2, { multiplexed: false, timestamps: false })).toEqual([
      { stream: "stdout", line: "a" },
      { stream: "stdout", line: "b" },
      { stream: "stdout", line: "c" },
    ]);
  });

  it("keeps a frame that does not start with a timestamp intact", () => {
    const data = frame("stdout", "no timestamp here\n");
    expect(decodeInChunks(data, 4, { multiplexed: true, timestamps: true })).toEqual([
      { stream: "stdout", line: "no timestamp here" },
    ]);
  });
});
