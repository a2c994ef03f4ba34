/**
 * Decodes the engine's log stream into lines.
 *
 * Without a TTY both engines multiplex stdout and stderr into frames: an 8-byte
 * header (stream type, 3 zero bytes, big-endian payload length) then the
 * payload. Frames and network chunks do not line up, and one line may span
 * frames: Podman sends a line written in two parts ("part" … "ial\n") as two
 * frames, each with its own timestamp, and Docker splits lines longer than
 * 16 KiB. So lines are assembled per stream across frames and chunks, each
 * line keeps the timestamp of its first frame, and a line is cut at
 * `maxLineBytes` (marked truncated, the rest dropped up to its newline) so a
 * process that never writes a newline cannot grow the agent's memory.
 */
import type { LogLine } from "../container-driver";

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024;

const HEADER_BYTES = 8;
/** Longest RFC 3339 timestamp prefix plus its space, with room to spare. */
const MAX_TIMESTAMP_PREFIX = 64;
const TIMESTAMP_PREFIX = /^(\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:\d\d)) $/;

type StreamName = LogLine["stream"];

interface LineState {
  parts: Buffer[];
  bytes: number;
  /** Past the bound: drop bytes until the next newline. */
  discarding: boolean;
  ts: string | undefined;
}

export interface LogDecoderOptions {
  /** false for a TTY container: the stream is raw stdout. */
  multiplexed: boolean;
  /** Each frame starts with "<RFC 3339 time> " (the `timestamps=true` query). */
  timestamps: boolean;
  maxLineBytes?: number;
}

export class LogStreamDecoder {
  private readonly maxLineBytes: number;
  private readonly lines: Record<StreamName, LineState> = { stdout: emptyLine(), stderr: emptyLine() };
  private header = Buffer.alloc(0);
  private frameStream: StreamName | null = null;
  private frameRemaining = 0;
  /** Bytes at the start of the current frame still being checked for a timestamp. */
  private tsProbe: Buffer | null = null;

  constructor(private readonly opts: LogDecoderOptions) {
    this.maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  push(chunk: Buffer): LogLine[] {
    const out: LogLine[] = [];
    if (!this.opts.multiplexed) {
      this.feedRaw("stdout", chunk, out);
      return out;
    }
    let offset = 0;
    while (offset < chunk.length) {
      if (this.frameRemaining === 0) {
        const need = HEADER_BYTES - this.header.length;
        this.header = Buffer.concat([this.header, chunk.subarray(offset, offset + need)]);
        offset += Math.min(need, chunk.length - offset);
        if (this.header.length < HEADER_BYTES) break;
        // Type 0 is stdin (never sent for logs); anything but 2 is treated as stdout.
        this.frameStream = this.header[0] === 2 ? "stderr" : "stdout";
        this.frameRemaining = this.header.readUInt32BE(4);
        this.header = Buffer.alloc(0);
        this.tsProbe = this.opts.timestamps ? Buffer.alloc(0) : null;
        continue;
      }
      const take = Math.min(this.frameRemaining, chunk.length - offset);
      const payload = chunk.subarray(offset, offset + take);
      offset += take;
      this.frameRemaining -= take;
      this.feedFramePayload(payload, out);
    }
    return out;
  }

  /** Flushes unterminated lines (the stream ended). */
  end(): LogLine[] {
    const out: LogLine[] = [];
    if (this.tsProbe && this.tsProbe.length > 0 && this.frameStream) {
      const probe = this.tsProbe;
      this.tsProbe = null;
      this.feedRaw(this.frameStream, probe, out);
    }
    for (const stream of ["stdout", "stderr"] as const) {
      const state = this.lines[stream];
      if (state.bytes > 0 && !state.discarding) this.emit(stream, out, false);
      this.lines[stream] = emptyLine();
    }
    return out;
  }

  private feedFramePayload(payload: Buffer, out: LogLine[]): void {
    const stream = this.frameStream ?? "stdout";
    if (this.tsProbe === null) {
      this.feedRaw(stream, payload, out);
      return;
    }
    const probe = Buffer.concat([this.tsProbe, payload]);
    const space = probe.indexOf(0x20);
    if (space === -1 && probe.length < MAX_TIMESTAMP_PREFIX && this.frameRemaining > 0) {
      this.tsProbe = probe;
      return;
    }
    this.tsProbe = null;
    const match =
      space === -1 ? null : TIMESTAMP_PREFIX.exec(probe.subarray(0, space + 1).toString("latin1"));
    if (match) {
      const state = this.lines[stream];
      // A frame that continues an unfinished line does not change that line's time.
      if (state.bytes === 0 && !state.discarding) state.ts = match[1];
      this.feedRaw(stream, probe.subarray(space + 1), out);
    } else {
      this.feedRaw(stream, probe, out);
    }
  }

  private feedRaw(stream: StreamName, data: Buffer, out: LogLine[]): void {
    let offset = 0;
    while (offset < data.length) {
      const newline = data.indexOf(0x0a, offset);
      this.append(stream, data.subarray(offset, newline === -1 ? data.length : newline), out);
      if (newline === -1) break;
      // A line cut at the bound was emitted when it was cut; its newline only ends the discarding.
      if (!this.lines[stream].discarding) this.emit(stream, out, false);
      // Later lines in the same frame carry no timestamp of their own.
      this.lines[stream] = emptyLine();
      offset = newline + 1;
    }
  }

  private append(stream: StreamName, bytes: Buffer, out: LogLine[]): void {
    const state = this.lines[stream];
    if (state.discarding || bytes.length === 0) return;
    const room = this.maxLineBytes - state.bytes;
    if (bytes.length <= room) {
      state.parts.push(bytes);
      state.bytes += bytes.length;
      return;
    }
    state.parts.push(bytes.subarray(0, utf8Boundary(bytes, room)));
    this.emit(stream, out, true);
    this.lines[stream] = { ...emptyLine(), discarding: true };
  }

  private emit(stream: StreamName, out: LogLine[], truncated: boolean): void {
    const state = this.lines[stream];
    let line = Buffer.concat(state.parts).toString("utf8");
    if (line.endsWith("\r")) line = line.slice(0, -1);
    const entry: LogLine = { stream, line };
    if (state.ts !== undefined) entry.ts = state.ts;
    if (truncated) entry.truncated = true;
    out.push(entry);
  }
}

function emptyLine(): LineState {
  return { parts: [], bytes: 0, discarding: false, ts: undefined };
}
/** The largest cut ≤ `max` that does not split a UTF-8 character. */
function utf8Boundary(bytes: Buffer, max: number): number {
  let cut = max;
  // Step back over continuation bytes (10xxxxxx) to the start of the character at `cut`.
  while (cut > 0 && cut < bytes.length && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return cut;
}
