// The log panel's lines: a capped buffer (a chatty container must not grow
// the page without bound), search and the text a download holds.

export interface TBufferedLogLine {
  /** Unique within the panel, for React keys. */
  seq: number;
  stream: "stdout" | "stderr";
  line: string;
  ts: Date | null;
}

export const LOG_BUFFER_LINES = 5000;

/** `lines` followed by `added`, keeping only the newest `cap`. */
export function appendCapped<T>(
  lines: readonly T[],
  added: readonly T[],
  cap: number = LOG_BUFFER_LINES,
): T[] {
  if (added.length >= cap) return added.slice(added.length - cap);
  const keep = Math.max(0, lines.length + added.length - cap);
  return [...lines.slice(keep), ...added];
}

/**
 * A line split around case-insensitive occurrences of `query`, so matches can
 * be wrapped in <mark>. An empty query gives the whole line, unmatched.
 */
export function splitMatches(text: string, query: string): { text: string; match: boolean }[] {
  if (!query) return [{ text, match: false }];
  const haystack = text.toLowerCase();
  const needle = query.toLowerCase();
  const parts: { text: string; match: boolean }[] = [];
  let from = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, from)) {
    if (at > from) parts.push({ text: text.slice(from, at), match: false });
    parts.push({ text: text.slice(at, at + needle.length), match: true });
    from = at + needle.length;
  }
  if (from < text.length || parts.length === 0) parts.push({ text: text.slice(from), match: false });
  return parts;
}

export function matchesQuery(line: string, query: string): boolean {
  return !query || line.toLowerCase().includes(query.toLowerCase());
}

/** What "Download" saves: the output as the container wrote it, one line per line. */
export function logsAsText(lines: readonly Pick<TBufferedLogLine, "line">[]): string {
  return lines.length === 0 ? "" : `${lines.map((entry) => entry.line).join("\n")}\n`;
}

/** A file name for the download: the container's name, made safe for file systems. */
export function logFileName(containerName: string): string {
  const safe = containerName.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[.]+/, "") || "container";
  return `${safe}.log.txt`;
}
