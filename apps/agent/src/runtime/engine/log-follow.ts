/**
 * `logs --follow --tail N` on Podman with no line lost between the tail and
 * the follow.
 *
 * Podman 4 answers such a request in two steps: it reads the log file's last
 * N entries, then opens the file again to follow it from its end, so lines
 * written between the two are never sent (tens of lines from a fast writer,
 * now and then one line of a slow one). Docker reads both from one open file
 * and has no such seam. Podman's timestamps only name the second, so they
 * cannot mark the seam either; a count of lines can:
 *
 * 1. the tail, without following: the second its newest line was written in;
 * 2. every line since the second before that, without following: how many
 *    there are, and the newest N of them, which end the tail shown;
 * 3. the follow since that same second, which gives those lines again first,
 *    in the same order (both read the log file from its start, keeping what
 *    is newer than `since`): as many are skipped as step 2 counted.
 *
 * May import: the runtime contract.
 */
import type { LogLine, LogOptions } from "../container-driver";

/**
 * The lines of a follow with a tail (`opts.follow`, `opts.tail` ≥ 0), made of
 * three requests to `read`, whose lines must carry the engine's timestamps.
 * `nowMs` is the time before the first request.
 */
export async function* followAfterTail(
  read: (opts: LogOptions) => AsyncIterable<LogLine>,
  opts: LogOptions,
  nowMs: number,
): AsyncGenerator<LogLine> {
  const tail: LogLine[] = [];
  if (opts.tail > 0) for await (const line of read({ ...opts, follow: false })) tail.push(line);
  const newest = tail.length > 0 ? secondOf(tail.at(-1)?.ts) : null;
  // A second early: Podman's `since` leaves out lines of exactly that time.
  let since = (newest ?? Math.floor(nowMs / 1000)) - 1;
  const asked = opts.since === undefined ? null : secondOf(opts.since);
  if (asked !== null && asked > since) since = asked;
  const fromSince: LogOptions = { ...opts, tail: -1, since: String(since) };

  let recentCount = 0;
  let recent: LogLine[] = [];
  for await (const line of read({ ...fromSince, follow: false })) {
    recentCount++;
    if (opts.tail === 0) continue;
    recent.push(line);
    if (recent.length >= 2 * opts.tail) recent = recent.slice(-opts.tail);
  }
  if (opts.tail > 0) {
    // The tail's lines older than `since` are not among the recent ones; the rest are, as they are now.
    const older = tail.filter((line) => (secondOf(line.ts) ?? since) < since);
    yield* [...older, ...recent].slice(-opts.tail);
  }

  let toSkip = recentCount;
  for await (const line of read(fromSince)) {
    if (toSkip > 0) toSkip--;
    else yield line;
  }
}

/** Whole Unix seconds of a timestamp (RFC 3339 or Unix seconds), rounded down. */
function secondOf(ts: string | undefined): number | null {
  if (ts === undefined) return null;
  const ms = /^\d+(\.\d+)?$/.test(ts) ? Number(ts) * 1000 : Date.parse(ts);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}
