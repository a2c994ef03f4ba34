// Postgres refuses two things JSON allows in strings: the NUL character (in
// text and jsonb) and unpaired UTF-16 surrogates (jsonb rejects their `\u`
// escapes). An agent's frame passes the protocol's schemas with either, so
// every string from the wire is made storable before it can reach a query;
// otherwise one odd byte in an event message would fail the write.

const UNSTORABLE_SOURCE =
  "\\u0000|[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]";
// Two regexes: a global one keeps `lastIndex` between calls, which would make `test` skip matches.
const HAS_UNSTORABLE = new RegExp(UNSTORABLE_SOURCE);
const ALL_UNSTORABLE = new RegExp(UNSTORABLE_SOURCE, "g");

export function postgresSafeString(text: string): string {
  return HAS_UNSTORABLE.test(text) ? text.replace(ALL_UNSTORABLE, "\ufffd") : text;
}

/** A copy of `value` with every string (keys included) made storable; the same value when nothing needed it. */
export function postgresSafe<T>(value: T): T {
  if (typeof value === "string") return postgresSafeString(value) as T;
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item: unknown) => {
      const safe = postgresSafe(item);
      if (safe !== item) changed = true;
      return safe;
    });
    return (changed ? out : value) as T;
  }
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const safeKey = postgresSafeString(key);
    const safe = postgresSafe(item);
    if (safeKey !== key || safe !== item) changed = true;
    out[safeKey] = safe;
  }
  return (changed ? out : value) as T;
}
