// Turning raw WebSocket messages into checked frames and back. The size is
// checked before anything is decoded, so a huge message costs no parsing.
import type { z } from "zod";
import { AGENT_FRAME_TYPES, type TAgentFrame, ZAgentFrame } from "./agent-to-server";
import { checkMetricsFrame } from "./metrics-frame-check";
import { SERVER_FRAME_TYPES, type TServerFrame, ZServerFrame } from "./server-to-agent";
import { MAX_FRAME_BYTES } from "./version";

export type TFrameParseResult<F> = { ok: true; frame: F } | { ok: false; error: string };

/** What a WebSocket library hands over: text, a binary message, or its fragments (`ws` gives `Buffer[]`). */
export type TRawFrame = string | ArrayBuffer | ArrayBufferView | readonly ArrayBufferView[];

export class FrameTooLargeError extends Error {
  override name = "FrameTooLargeError";
  /** `bytes` is a lower bound when `atLeast` is set (counting stopped early). */
  constructor(
    readonly bytes: number,
    readonly atLeast = false,
  ) {
    super(`frame is ${atLeast ? "at least " : ""}${bytes} bytes, more than the ${MAX_FRAME_BYTES} allowed`);
  }
}

const MAX_ISSUES_SHOWN = 3;

/** UTF-8 length of a string without allocating its encoding. */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

function oversizeError(text: string): FrameTooLargeError | null {
  // Every UTF-16 unit is 1-3 UTF-8 bytes, so most frames are decided without counting.
  if (text.length * 3 <= MAX_FRAME_BYTES) return null;
  if (text.length > MAX_FRAME_BYTES) return new FrameTooLargeError(text.length, true);
  const bytes = utf8ByteLength(text);
  return bytes > MAX_FRAME_BYTES ? new FrameTooLargeError(bytes) : null;
}

type TTextResult = { ok: true; text: string } | { ok: false; error: string };

function rawToText(raw: TRawFrame): TTextResult {
  if (typeof raw === "string") {
    const oversize = oversizeError(raw);
    return oversize === null ? { ok: true, text: raw } : { ok: false, error: oversize.message };
  }
  const pieces: Uint8Array[] = [];
  if (raw instanceof ArrayBuffer) pieces.push(new Uint8Array(raw));
  else if (ArrayBuffer.isView(raw)) pieces.push(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
  else for (const piece of raw) pieces.push(new Uint8Array(piece.buffer, piece.byteOffset, piece.byteLength));
  const total = pieces.reduce((sum, piece) => sum + piece.byteLength, 0);
  if (total > MAX_FRAME_BYTES) return { ok: false, error: new FrameTooLargeError(total).message };
  let bytes: Uint8Array;
  if (pieces.length === 1) bytes = pieces[0] as Uint8Array;
  else {
    bytes = new Uint8Array(total);
    let offset = 0;
    for (const piece of pieces) {
      bytes.set(piece, offset);
      offset += piece.byteLength;
    }
  }
  try {
    return { ok: true, text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    return { ok: false, error: "frame is not valid UTF-8" };
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

function issueMessage(issue: z.core.$ZodIssue): string {
  // A bad record key comes back as "Invalid key in record"; the reason is in the nested issues.
  if (issue.code === "invalid_key" && issue.issues.length > 0) {
    return `invalid key: ${issue.issues.map((inner) => inner.message).join(", ")}`;
  }
  return issue.message;
}

/** A one-line summary of the first few problems, e.g. `facts.cpus: Too small: expected number to be >=1`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues
    .slice(0, MAX_ISSUES_SHOWN)
    .map((issue) => `${formatPath(issue.path) || "(frame)"}: ${issueMessage(issue)}`);
  const more = issues.length - shown.length;
  return shown.join("; ") + (more > 0 ? ` (and ${more} more)` : "");
}

/** A faster check for a hot frame type: the frame when the schema would accept it unchanged, else null (the schema decides). */
type TFastCheck<F> = (json: Record<string, unknown>) => F | null;

function parseFrame<F>(
  raw: TRawFrame,
  schema: z.ZodType<F>,
  knownTypes: readonly string[],
  direction: string,
  fastChecks: Readonly<Record<string, TFastCheck<F>>> = {},
): TFrameParseResult<F> {
  const text = rawToText(raw);
  if (!text.ok) return text;
  let json: unknown;
  try {
    json = JSON.parse(text.text);
  } catch (error) {
    return {
      ok: false,
      error: `frame is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    return { ok: false, error: "frame must be a JSON object" };
  }
  const type: unknown = (json as Record<string, unknown>).type;
  if (typeof type !== "string") return { ok: false, error: 'frame has no string "type" field' };
  if (!knownTypes.includes(type)) {
    return {
      ok: false,
      error: `unknown ${direction} frame type "${type.slice(0, 64)}" (expected one of ${knownTypes.join(", ")})`,
    };
  }
  const fast = Object.hasOwn(fastChecks, type) ? fastChecks[type]?.(json as Record<string, unknown>) : null;
  if (fast) return { ok: true, frame: fast };
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    return { ok: false, error: `invalid "${type}" frame: ${describeIssues(parsed.error.issues)}` };
  return { ok: true, frame: parsed.data };
}

const AGENT_FAST_CHECKS: Record<string, TFastCheck<TAgentFrame>> = { metrics: checkMetricsFrame };

/** For the central: checks a message received from an agent. Never throws. */
export function parseAgentFrame(raw: TRawFrame): TFrameParseResult<TAgentFrame> {
  return parseFrame(raw, ZAgentFrame, AGENT_FRAME_TYPES, "agent", AGENT_FAST_CHECKS);
}

/** For the agent: checks a message received from the central. Never throws. */
export function parseServerFrame(raw: TRawFrame): TFrameParseResult<TServerFrame> {
  return parseFrame(raw, ZServerFrame, SERVER_FRAME_TYPES, "server");
}

/**
 * Serializes a frame. Throws FrameTooLargeError past MAX_FRAME_BYTES, since
 * the peer would reject it anyway; senders of large frames (metrics, log
 * tails) split or trim before sending.
 */
export function encodeFrame(frame: TAgentFrame | TServerFrame): string {
  const text = JSON.stringify(frame);
  const oversize = oversizeError(text);
  if (oversize !== null) throw oversize;
  return text;
}
