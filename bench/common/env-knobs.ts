// The benchmarks' settings from the environment: unset or empty takes the default,
// anything else must be what the setting says or the benchmark stops before it starts.

export function positiveInt(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer, got ${text}`);
  return value;
}

/** As positiveInt, and 0 turns the thing it counts off. */
export function nonNegativeInt(name: string, fallback: number): number {
  return process.env[name] === "0" ? 0 : positiveInt(name, fallback);
}

/** One of `values`, as written. */
export function oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  if (!values.includes(text as T))
    throw new Error(`${name} must be one of ${values.join(", ")}, got ${text}`);
  return text as T;
}
