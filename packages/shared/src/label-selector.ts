// Labels and Kubernetes-style label selectors (`env=prod,tier!=db,zone in
// (a,b),gpu,!spot`), used to constrain where containers may be scheduled and
// to filter lists. Browser-safe; imports only zod.
import { z } from "zod";

export class LabelSelectorError extends Error {
  override name = "LabelSelectorError";
}

export type TLabelOperator = "=" | "!=" | "in" | "notin" | "exists" | "!exists";

export interface TLabelRequirement {
  key: string;
  op: TLabelOperator;
  /** One value for `=`/`!=`, one or more (sorted, unique) for `in`/`notin`, none for `exists`/`!exists`. */
  values: string[];
}

export type TLabels = Record<string, string>;

export const MAX_LABEL_NAME_LENGTH = 63;
export const MAX_LABEL_PREFIX_LENGTH = 253;
export const MAX_LABEL_KEY_LENGTH = MAX_LABEL_PREFIX_LENGTH + 1 + MAX_LABEL_NAME_LENGTH;
export const MAX_LABEL_VALUE_LENGTH = 63;
export const MAX_LABELS = 64;
export const MAX_SELECTOR_LENGTH = 4096;

const LABEL_NAME = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

/** Why `key` is not a valid label key, or null if it is. */
export function labelKeyProblem(key: string): string | null {
  if (key === "") return "label key is empty";
  const slash = key.indexOf("/");
  const prefix = slash === -1 ? null : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== null) {
    if (prefix.length > MAX_LABEL_PREFIX_LENGTH || !DNS_SUBDOMAIN.test(prefix)) {
      return `label key "${key}": prefix "${prefix}" must be a lowercase DNS name of at most ${MAX_LABEL_PREFIX_LENGTH} characters`;
    }
  }
  if (name.length > MAX_LABEL_NAME_LENGTH) {
    return `label key "${key}": name part is longer than ${MAX_LABEL_NAME_LENGTH} characters`;
  }
  if (!LABEL_NAME.test(name)) {
    return `label key "${key}": name must be letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
  }
  return null;
}

/** Why `value` is not a valid label value, or null if it is. Empty values are valid. */
export function labelValueProblem(value: string): string | null {
  if (value.length > MAX_LABEL_VALUE_LENGTH) {
    return `label value "${value.slice(0, 20)}…" is longer than ${MAX_LABEL_VALUE_LENGTH} characters`;
  }
  if (value !== "" && !LABEL_NAME.test(value)) {
    return `label value "${value}" must be letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
  }
  return null;
}

export function isValidLabelKey(key: string): boolean {
  return labelKeyProblem(key) === null;
}

export function isValidLabelValue(value: string): boolean {
  return labelValueProblem(value) === null;
}

/** Reads a CLI `--label k=v`; a bare `k` means an empty value, as in docker. */
export function parseLabel(input: string): [key: string, value: string] {
  const equals = input.indexOf("=");
  const key = (equals === -1 ? input : input.slice(0, equals)).trim();
  const value = equals === -1 ? "" : input.slice(equals + 1).trim();
  const problem = labelKeyProblem(key) ?? labelValueProblem(value);
  if (problem) throw new LabelSelectorError(`invalid label "${input}": ${problem}`);
  return [key, value];
}

// ---- selector lexer -------------------------------------------------------

type TToken =
  | { kind: "word"; text: string; at: number }
  | { kind: "=" | "!=" | "!" | "," | "(" | ")"; at: number }
  | { kind: "end"; at: number };

const WORD_CHARS = /[^\s!=,()]/;

function tokenize(input: string, fail: (message: string, at: number) => LabelSelectorError): TToken[] {
  const tokens: TToken[] = [];
  let i = 0;
  while (i < input.length) {
    const char = input[i] as string;
    if (/\s/.test(char)) {
      i++;
    } else if (char === "!" && input[i + 1] === "=") {
      tokens.push({ kind: "!=", at: i });
      i += 2;
    } else if (char === "=") {
      tokens.push({ kind: "=", at: i });
      // `==` is the same operator as `=`.
      i += input[i + 1] === "=" ? 2 : 1;
    } else if (char === "!" || char === "," || char === "(" || char === ")") {
      tokens.push({ kind: char, at: i });
      i++;
    } else if (WORD_CHARS.test(char)) {
      const start = i;
      while (i < input.length && WORD_CHARS.test(input[i] as string)) i++;
      tokens.push({ kind: "word", text: input.slice(start, i), at: start });
    } else {
      throw fail(`unexpected character "${char}"`, i);
    }
  }
  tokens.push({ kind: "end", at: input.length });
  return tokens;
}

function describeToken(token: TToken): string {
  if (token.kind === "end") return "end of input";
  if (token.kind === "word") return `"${token.text}"`;
  return `"${token.kind}"`;
}

/**
 * Parses a comma-separated list of requirements, all of which must hold:
 * `key=value`, `key==value`, `key!=value`, `key in (a,b)`, `key notin (a)`,
 * `key` (exists) and `!key` (does not exist). An empty selector matches everything.
 */
export function parseLabelSelector(input: string): TLabelRequirement[] {
  const fail = (message: string, at: number) =>
    new LabelSelectorError(`invalid label selector "${input}": ${message} at position ${at + 1}`);
  if (input.length > MAX_SELECTOR_LENGTH) {
    throw new LabelSelectorError(`label selector is longer than ${MAX_SELECTOR_LENGTH} characters`);
  }
  const tokens = tokenize(input, fail);
  let position = 0;
  const peek = (): TToken => tokens[position] as TToken;
  const next = (): TToken => tokens[position++] as TToken;

  const readKey = (): string => {
    const token = next();
    if (token.kind !== "word") throw fail(`expected a label key, found ${describeToken(token)}`, token.at);
    const problem = labelKeyProblem(token.text);
    if (problem) throw fail(problem, token.at);
    return token.text;
  };
  const checkValue = (value: string, at: number): string => {
    const problem = labelValueProblem(value);
    if (problem) throw fail(problem, at);
    return value;
  };

  const requirements: TLabelRequirement[] = [];
  if (peek().kind === "end") return requirements;
  for (;;) {
    const first = peek();
    if (first.kind === "!") {
      next();
      requirements.push({ key: readKey(), op: "!exists", values: [] });
    } else {
      const key = readKey();
      const operator = peek();
      if (operator.kind === "=" || operator.kind === "!=") {
        next();
        const valueToken = peek();
        // `env=` selects an empty value, so a missing word is allowed here.
        let value = "";
        if (valueToken.kind === "word") {
          next();
          value = checkValue(valueToken.text, valueToken.at);
        } else if (valueToken.kind !== "," && valueToken.kind !== "end") {
          throw fail(`expected a value, found ${describeToken(valueToken)}`, valueToken.at);
        }
        requirements.push({ key, op: operator.kind, values: [value] });
      } else if (operator.kind === "word" && (operator.text === "in" || operator.text === "notin")) {
        next();
        const open = next();
        if (open.kind !== "(")
          throw fail(`expected "(" after "${operator.text}", found ${describeToken(open)}`, open.at);
        if (peek().kind === ")") throw fail(`"${operator.text}" needs at least one value`, peek().at);
        const values = new Set<string>();
        for (;;) {
          const valueToken = peek();
          if (valueToken.kind === "word") {
            next();
            values.add(checkValue(valueToken.text, valueToken.at));
          } else if (valueToken.kind === "," || valueToken.kind === ")") {
            // An empty slot in a set (`(a,)`) means the empty value, as in Kubernetes.
            values.add("");
          } else {
            throw fail(`expected a value, found ${describeToken(valueToken)}`, valueToken.at);
          }
          const separator = next();
          if (separator.kind === ")") break;
          if (separator.kind !== ",")
            throw fail(`expected "," or ")", found ${describeToken(separator)}`, separator.at);
        }
        requirements.push({ key, op: operator.text, values: [...values].sort() });
      } else if (operator.kind === "," || operator.kind === "end") {
        requirements.push({ key, op: "exists", values: [] });
      } else {
        throw fail(
          `expected "=", "!=", "in", "notin", "," or end, found ${describeToken(operator)}`,
          operator.at,
        );
      }
    }
    const separator = next();
    if (separator.kind === "end") return requirements;
    if (separator.kind !== ",") throw fail(`expected "," found ${describeToken(separator)}`, separator.at);
    if (peek().kind === "end") throw fail('expected a requirement after ","', peek().at);
  }
}

function requirementHolds(requirement: TLabelRequirement, labels: Readonly<TLabels>): boolean {
  const has = Object.hasOwn(labels, requirement.key);
  const value = has ? labels[requirement.key] : undefined;
  switch (requirement.op) {
    case "=":
      return has && value === requirement.values[0];
    case "!=":
      return !has || value !== requirement.values[0];
    case "in":
      return has && requirement.values.includes(value as string);
    case "notin":
      return !has || !requirement.values.includes(value as string);
    case "exists":
      return has;
    case "!exists":
      return !has;
  }
}

/** Whether every requirement holds. `!=` and `notin` also hold when the key is absent (as in Kubernetes). */
export function matchesLabels(
  requirements: readonly TLabelRequirement[],
  labels: Readonly<TLabels>,
): boolean {
  return requirements.every((requirement) => requirementHolds(requirement, labels));
}

function formatRequirement({ key, op, values }: TLabelRequirement): string {
  switch (op) {
    case "=":
    case "!=":
      return `${key}${op}${values[0] ?? ""}`;
    case "in":
    case "notin":
      return `${key} ${op} (${values.join(",")})`;
    case "exists":
      return key;
    case "!exists":
      return `!${key}`;
  }
}

/** Prints requirements in the syntax `parseLabelSelector` reads. */
export function formatLabelSelector(requirements: readonly TLabelRequirement[]): string {
  return requirements.map(formatRequirement).join(",");
}

/** A selector string, validated by `parseLabelSelector` and kept as written. */
export const ZLabelSelector = z
  .string()
  .max(MAX_SELECTOR_LENGTH)
  .superRefine((value, ctx) => {
    if (value.length > MAX_SELECTOR_LENGTH) return;
    try {
      parseLabelSelector(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: error instanceof Error ? error.message : String(error) });
    }
  });

/** Labels on a host or container: valid keys to valid values, at most 64 of them. */
export const ZLabels = z
  .record(z.string().max(MAX_LABEL_KEY_LENGTH), z.string().max(MAX_LABEL_VALUE_LENGTH))
  .superRefine((labels, ctx) => {
    const keys = Object.keys(labels);
    if (keys.length > MAX_LABELS) {
      ctx.addIssue({
        code: "custom",
        message: `at most ${MAX_LABELS} labels are allowed, got ${keys.length}`,
      });
      return;
    }
    for (const key of keys) {
      const problem = labelKeyProblem(key) ?? labelValueProblem(labels[key] as string);
      if (problem) ctx.addIssue({ code: "custom", message: problem, path: [key] });
    }
  });
