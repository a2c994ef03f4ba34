// Command lines in docker's idiom over node:util `parseArgs`: each command
// declares its flags once (with the words its --help shows), and one parser
// turns argv into typed values with messages a person can act on. parseArgs
// runs non-strict with tokens so the checks and their wording are ours, and
// so `fleet run … IMAGE CMD…` can stop reading flags at IMAGE.
import { parseArgs } from "node:util";
import { UsageError } from "./cli-error";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** May be given more than once; the values are collected in order. */
  multiple?: boolean;
  /** Other long spellings docker also accepts (`--net` for `--network`); values land under the main name. */
  aliases?: readonly string[];
  /** Placeholder shown in help (`--memory BYTES`); string flags only. */
  value?: string;
  description: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

type ValueOf<S extends OptionSpec> = S["type"] extends "boolean"
  ? boolean
  : S["multiple"] extends true
    ? string[]
    : string;

export type OptionValues<O extends OptionSpecs> = { [K in keyof O]?: ValueOf<O[K]> };

export interface CommandSpec<O extends OptionSpecs = OptionSpecs> {
  /** As typed after `fleet`: `run`, `join-token`. */
  name: string;
  /** One line for `fleet --help`. */
  summary: string;
  /** What follows `fleet <name>` in the usage line: `[OPTIONS] IMAGE [COMMAND] [ARG...]`. */
  usage: string;
  /** More lines for the command's own --help. */
  details?: string[];
  options: O;
  /** Bounds on the number of arguments (not flags). */
  args: { min: number; max: number | null; what: string };
  /** Flags end at the first argument: what follows belongs to it (`fleet run IMAGE CMD…`). */
  stopAtFirstArg?: boolean;
  examples: string[];
}

export interface ParsedArgs<O extends OptionSpecs> {
  values: OptionValues<O>;
  args: string[];
  help: boolean;
}

const HELP: OptionSpec = { type: "boolean", short: "h", description: "Show this help" };

function flagName(name: string, spec: OptionSpec): string {
  const long = [name, ...(spec.aliases ?? [])].map((spelling) => `--${spelling}`).join(", ");
  return spec.short ? `-${spec.short}, ${long}` : long;
}

/** Reads argv for one command; throws UsageError naming the command on any mistake. */
export function parseCommandArgs<O extends OptionSpecs>(spec: CommandSpec<O>, argv: string[]): ParsedArgs<O> {
  const options: OptionSpecs = { ...spec.options, help: HELP };
  const aliasOf = new Map<string, string>();
  for (const [name, option] of Object.entries(options)) {
    for (const alias of option.aliases ?? []) aliasOf.set(alias, name);
  }
  const fail = (message: string): never => {
    throw new UsageError(message, spec.name);
  };
  const parseOptions = Object.fromEntries([
    ...Object.entries(options).map(([name, option]) => [
      name,
      { type: option.type, ...(option.short ? { short: option.short } : {}) },
    ]),
    ...[...aliasOf].map(([alias, name]) => [alias, { type: options[name]!.type }]),
  ]);
  const { tokens } = parseArgs({
    args: argv,
    options: parseOptions,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });

  const values: Record<string, string | boolean | string[]> = {};
  const args: string[] = [];
  for (const token of tokens) {
    if (token.kind === "option-terminator") {
      args.push(...argv.slice(token.index + 1));
      break;
    }
    if (token.kind === "positional") {
      if (spec.stopAtFirstArg) {
        args.push(...argv.slice(token.index));
        break;
      }
      args.push(token.value);
      continue;
    }
    const name = aliasOf.get(token.name) ?? token.name;
    const option = options[name];
    if (!option) fail(`unknown flag: ${token.rawName}`);
    const known = option as OptionSpec;
    if (known.type === "boolean") {
      if (token.value !== undefined) fail(`flag ${token.rawName} takes no value`);
      values[name] = true;
      continue;
    }
    const value = token.value;
    if (value === undefined) fail(`flag ${flagName(name, known)} needs a value`);
    // As parseArgs' strict mode: `--memory --detach` is a forgotten value, not a value.
    if (!token.inlineValue && value!.startsWith("-") && value!.length > 1) {
      fail(
        `flag ${token.rawName} needs a value (got ${value}; write ${token.rawName}=${value} if that is the value)`,
      );
    }
    if (known.multiple) {
      const list = (values[name] as string[] | undefined) ?? [];
      list.push(value!);
      values[name] = list;
    } else {
      values[name] = value!;
    }
  }
  const help = values.help === true;
  delete values.help;
  if (!help) {
    if (args.length < spec.args.min) fail(`${spec.args.what} missing`);
    if (spec.args.max !== null && args.length > spec.args.max) {
      fail(
        spec.args.max === 0
          ? `fleet ${spec.name} takes no arguments (got ${args[0]})`
          : `too many arguments: ${args.slice(spec.args.max).join(" ")}`,
      );
    }
  }
  return { values: values as OptionValues<O>, args, help };
}

/** The command's --help text. */
export function formatCommandHelp(spec: CommandSpec): string {
  const rows = Object.entries({ ...spec.options, help: HELP }).map(([name, option]) => {
    const flag = `${flagName(name, option)}${option.type === "string" ? ` ${option.value ?? "string"}` : ""}`;
    const indented = option.short ? flag : `    ${flag}`;
    return [indented, option.description] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  const lines = [
    `Usage:  fleet ${spec.name}${spec.usage ? ` ${spec.usage}` : ""}`,
    "",
    spec.summary,
    ...(spec.details && spec.details.length > 0 ? ["", ...spec.details] : []),
    "",
    "Options:",
    ...rows.map(([flag, description]) => `  ${flag.padEnd(width)}   ${description}`),
    "",
    spec.examples.length === 1 ? "Example:" : "Examples:",
    ...spec.examples.map((example) => `  ${example}`),
  ];
  return `${lines.join("\n")}\n`;
}

/** The short reminder printed after a usage error. */
export function formatUsageLine(spec: CommandSpec): string {
  return `Usage:  fleet ${spec.name}${spec.usage ? ` ${spec.usage}` : ""}\nRun 'fleet ${spec.name} --help' for more information.\n`;
}

/** `k=v` lines → a record, each checked by `parse` (which throws with a message for people). */
export function keyValues(
  lines: readonly string[] | undefined,
  flag: string,
  command: string,
  parse: (line: string) => [string, string],
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of lines ?? []) {
    try {
      const [key, value] = parse(line);
      result[key] = value;
    } catch (error) {
      throw new UsageError(`${flag} ${line}: ${(error as Error).message}`, command);
    }
  }
  return result;
}

/** Calls a shared parser on a flag's value; its error becomes a usage error naming the flag. */
export function parsedFlag<T>(
  value: string | undefined,
  flag: string,
  command: string,
  parse: (text: string) => T,
): T | undefined {
  if (value === undefined) return undefined;
  try {
    return parse(value);
  } catch (error) {
    throw new UsageError(`${flag}: ${(error as Error).message}`, command);
  }
}

/** A whole number within bounds, or a usage error naming the flag. */
export function integerFlag(
  value: string | undefined,
  flag: string,
  command: string,
  bounds: { min: number; max: number },
): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < bounds.min || n > bounds.max) {
    throw new UsageError(
      `${flag} must be a whole number from ${bounds.min} to ${bounds.max}, got ${value}`,
      command,
    );
  }
  return n;
}
