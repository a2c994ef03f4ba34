// Parsing and printing of the units people type on the CLI and in forms:
// memory sizes (docker's `--memory 64m`), CPUs (`--cpus 0.5` or `500m`) and
// durations (`1h30m`). Pure and browser-safe; imports nothing.

export class UnitError extends Error {
  override name = "UnitError";
}

const KIB = 1024;
const BYTE_UNITS = [
  { suffix: "t", multiplier: KIB ** 4 },
  { suffix: "g", multiplier: KIB ** 3 },
  { suffix: "m", multiplier: KIB ** 2 },
  { suffix: "k", multiplier: KIB },
] as const;
const BYTE_MULTIPLIERS: Record<string, number> = {
  "": 1,
  b: 1,
  k: KIB,
  m: KIB ** 2,
  g: KIB ** 3,
  t: KIB ** 4,
};

// Same shape docker's RAMInBytes accepts: a number, then an optional unit
// letter, an optional `i` and an optional `b` (so `64m`, `64mb`, `64MiB`, `64b`).
const BYTES_PATTERN = /^(\d+(?:\.\d+)?|\.\d+) ?([kmgt]?)(i?b)?$/i;

/** Parses a memory size with binary multiples (`64m` = 64 MiB) into whole bytes, rounding down. */
export function parseBytes(input: string): number {
  const text = input.trim();
  const match = BYTES_PATTERN.exec(text);
  const bytesError = () =>
    new UnitError(`invalid memory size "${input}": use a number with an optional unit b, k, m, g or t`);
  if (!match) throw bytesError();
  const [, numberText = "", unitText = "", suffix = ""] = match;
  // `ib` only makes sense after a unit letter: `64ib` is a typo, not bytes.
  if (unitText === "" && suffix.length === 2) throw bytesError();
  const multiplier = BYTE_MULTIPLIERS[unitText.toLowerCase()] ?? 1;
  const bytes = Math.floor(Number(numberText) * multiplier);
  if (!Number.isSafeInteger(bytes)) throw new UnitError(`memory size "${input}" is too large`);
  return bytes;
}

function assertByteCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new UnitError(`${what} must be a whole, non-negative number of bytes, got ${n}`);
  }
}

function trimDecimals(value: number, decimals: number): string {
  return value.toFixed(decimals).replace(/\.?0+$/, "");
}

/**
 * Prints bytes in the shortest form `parseBytes` reads back to the same
 * number: `64m`, `1g`, `1.5k`; plain digits when no unit gives an exact value
 * with at most two decimals. Ties go to the larger unit.
 */
export function formatBytes(n: number): string {
  assertByteCount(n, "formatBytes input");
  let best: string | null = null;
  for (const { suffix, multiplier } of BYTE_UNITS) {
    if (n < multiplier) continue;
    // BigInt keeps the exactness check honest for sizes beyond 2^53 / 100.
    if ((BigInt(n) * 100n) % BigInt(multiplier) !== 0n) continue;
    const candidate = `${trimDecimals(n / multiplier, 2)}${suffix}`;
    if (best === null || candidate.length < best.length) best = candidate;
  }
  const plain = String(n);
  return best !== null && best.length <= plain.length ? best : plain;
}

const HUMAN_BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"] as const;

/** For display: `64 MiB`, `1.5 GiB`, `512 B` (rounded to two decimals). */
export function formatBytesHuman(n: number): string {
  if (!Number.isFinite(n) || n < 0) throw new UnitError(`byte count must be non-negative, got ${n}`);
  let value = n;
  let unitIndex = 0;
  while (value >= KIB && unitIndex < HUMAN_BYTE_UNITS.length - 1) {
    value /= KIB;
    unitIndex++;
  }
  // 1023.999 KiB would print as "1024 KiB"; step up instead.
  if (Number(value.toFixed(2)) >= KIB && unitIndex < HUMAN_BYTE_UNITS.length - 1) {
    value /= KIB;
    unitIndex++;
  }
  return `${trimDecimals(value, 2)} ${HUMAN_BYTE_UNITS[unitIndex]}`;
}

const CPUS_PATTERN = /^(\d+(?:\.\d+)?|\.\d+)$/;
const MILLICORES_PATTERN = /^(\d+)m$/;

/** Parses `0.5`, `2` (cores) or `500m` (millicores) into whole millicores. */
export function parseCpus(input: string): number {
  const text = input.trim();
  let millis: number;
  const millicores = MILLICORES_PATTERN.exec(text);
  if (millicores) {
    millis = Number(millicores[1]);
  } else if (CPUS_PATTERN.test(text)) {
    const exact = Number(text) * 1000;
    millis = Math.round(exact);
    // Rounding hides float noise (0.001 * 1000 = 1.0000000000000002), not real fractions.
    if (Math.abs(exact - millis) > 1e-6) {
      throw new UnitError(`invalid cpus "${input}": the smallest step is 0.001 (one millicore)`);
    }
  } else {
    throw new UnitError(
      `invalid cpus "${input}": use a number of cores such as 0.5 or 2, or millicores such as 500m`,
    );
  }
  if (!Number.isSafeInteger(millis)) throw new UnitError(`cpus "${input}" is too large`);
  if (millis < 1) throw new UnitError(`invalid cpus "${input}": must be at least 0.001 (1m)`);
  return millis;
}

/** Prints millicores as cores: 500 → `0.5`, 2000 → `2`, 1250 → `1.25`. */
export function formatCpus(millis: number): string {
  if (!Number.isSafeInteger(millis) || millis < 0) {
    throw new UnitError(`millicores must be a whole, non-negative number, got ${millis}`);
  }
  return trimDecimals(millis / 1000, 3);
}

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
const DURATION_PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)/y;
const PLAIN_NUMBER = /^(\d+(?:\.\d+)?|\.\d+)$/;

/**
 * Parses a duration into whole milliseconds (rounded): `500ms`, `5s`, `2m`,
 * `1h30m`, `1d`. A bare number means seconds, as in `--timeout 30`.
 */
export function parseDuration(input: string): number {
  const text = input.trim();
  const durationError = () =>
    new UnitError(
      `invalid duration "${input}": use a number with a unit ms, s, m, h or d, e.g. 500ms, 1h30m`,
    );
  let ms: number;
  if (PLAIN_NUMBER.test(text)) {
    ms = Number(text) * 1000;
  } else {
    if (text === "") throw durationError();
    ms = 0;
    DURATION_PART.lastIndex = 0;
    while (DURATION_PART.lastIndex < text.length) {
      const match = DURATION_PART.exec(text);
      if (!match) throw durationError();
      const [, amount = "", unit = ""] = match;
      ms += Number(amount) * (DURATION_UNITS_MS[unit] ?? Number.NaN);
    }
  }
  const rounded = Math.round(ms);
  if (!Number.isSafeInteger(rounded)) throw new UnitError(`duration "${input}" is too long`);
  return rounded;
}

const FORMAT_DURATION_UNITS = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1000],
  ["ms", 1],
] as const;

/** Prints whole milliseconds as `1h30m`, `500ms`, `1d2h`, `0s`; `parseDuration` reads it back. */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new UnitError(`duration must be a whole, non-negative number of milliseconds, got ${ms}`);
  }
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const [unit, size] of FORMAT_DURATION_UNITS) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}
