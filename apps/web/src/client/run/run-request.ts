// The run form's text fields → the API's input for container.run,
// container.plan and deployment.create. The API parses docker's spellings
// ("0.5", "64m", "8080:80", "on-failure:3") itself and names the field of any
// mistake, so this only splits lines and lists; the few checks here are the
// ones the API cannot word for a form (an empty image, a pids field that is
// not a number, a deployment without a name).
import type { RouterInputs } from "../api-types";
import { EMPTY_HEALTH_FIELDS, healthCheckInputOf, type THealthFieldValues } from "./health-check";

export type TRestartChoice = "no" | "always" | "on-failure";
export type TStrategy = "binpack" | "spread";

export interface TRunFormValues extends THealthFieldValues {
  image: string;
  command: string;
  name: string;
  memory: string;
  cpus: string;
  pids: string;
  env: string;
  ports: string;
  restart: TRestartChoice;
  /** Only with `on-failure`; empty = retry forever. */
  maxRetries: string;
  replicas: string;
  strategy: TStrategy;
  constraints: string;
  /** `-v` entries, one per line: `data:/var/lib/app[:ro]` or `/srv/host/path:/etc/app[:ro]`. */
  volumes: string;
  /** `--tmpfs` entries, one per line: `/scratch` or `/scratch:size=16m`. */
  tmpfs: string;
  /** Network names, separated by commas or spaces. */
  networks: string;
}

export const EMPTY_RUN_FORM: TRunFormValues = {
  image: "",
  command: "",
  name: "",
  memory: "",
  cpus: "",
  pids: "",
  env: "",
  ports: "",
  restart: "no",
  maxRetries: "",
  replicas: "1",
  strategy: "binpack",
  constraints: "",
  volumes: "",
  tmpfs: "",
  networks: "",
  ...EMPTY_HEALTH_FIELDS,
};

export type TRunInput = RouterInputs["container"]["run"];
export type TDeploymentInput = RouterInputs["deployment"]["create"];

export type TRunRequest =
  | { ok: true; replicas: number; run: TRunInput }
  | { ok: false; field: keyof TRunFormValues; message: string };

/**
 * Splits a command line as a shell would split words: whitespace separates,
 * single quotes keep everything, double quotes keep all but `\"` and `\\`, a
 * backslash outside quotes escapes the next character. No expansion of any
 * kind. Throws on an unclosed quote.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let index = 0; index < line.length; index++) {
    const char = line[index] as string;
    if (quote === "'") {
      if (char === "'") quote = null;
      else word += char;
      continue;
    }
    if (quote === '"') {
      if (char === '"') quote = null;
      else if (char === "\\" && (line[index + 1] === '"' || line[index + 1] === "\\")) word += line[++index];
      else word += char;
      continue;
    }
    if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (char === "\\" && index + 1 < line.length) {
      word += line[++index];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unclosed ${quote === "'" ? "single" : "double"} quote`);
  if (inWord) words.push(word);
  return words;
}

/** `KEY=value` lines; blank lines and `#` comments are skipped. */
export function envLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/^\s+/, ""))
    .filter((line) => line !== "" && !line.startsWith("#"));
}

/** `8080:80, 9090:90/udp` or one per line. */
export function portList(text: string): string[] {
  return text.split(/[\s,]+/).filter((port) => port !== "");
}

/** One entry per line (`-v`, `--tmpfs`); blank lines and `#` comments are skipped, each line trimmed. */
export function entryLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

/** `frontend, backend` or `frontend backend`. */
export function nameList(text: string): string[] {
  return text.split(/[\s,]+/).filter((name) => name !== "");
}

function wholeNumber(text: string): number | null {
  return /^\d+$/.test(text.trim()) ? Number(text.trim()) : null;
}

/** The form as the API's input, or the first problem the API cannot word for this form. */
export function runRequestOf(values: TRunFormValues): TRunRequest {
  const image = values.image.trim();
  if (image === "")
    return { ok: false, field: "image", message: "Image: enter an image, e.g. busybox:latest" };

  let command: string[] | undefined;
  if (values.command.trim() !== "") {
    try {
      command = splitCommandLine(values.command);
    } catch (error) {
      return { ok: false, field: "command", message: `Command: ${(error as Error).message}` };
    }
  }

  let pids: number | undefined;
  if (values.pids.trim() !== "") {
    const parsed = wholeNumber(values.pids);
    if (parsed === null) return { ok: false, field: "pids", message: "Pids: must be a whole number" };
    pids = parsed;
  }

  const replicas = values.replicas.trim() === "" ? 1 : wholeNumber(values.replicas);
  if (replicas === null || replicas < 1) {
    return { ok: false, field: "replicas", message: "Replicas: must be a whole number, 1 or more" };
  }

  let restart: string = values.restart;
  if (values.restart === "on-failure" && values.maxRetries.trim() !== "") {
    const retries = wholeNumber(values.maxRetries);
    if (retries === null)
      return { ok: false, field: "maxRetries", message: "Max retries: must be a whole number" };
    restart = `on-failure:${retries}`;
  }

  const health = healthCheckInputOf(values);
  if (!health.ok) return health;

  const env = envLines(values.env);
  const ports = portList(values.ports);
  const volumes = entryLines(values.volumes);
  const tmpfs = entryLines(values.tmpfs);
  const networks = nameList(values.networks);
  const name = values.name.trim();
  const run: TRunInput = {
    image,
    strategy: values.strategy,
    restart,
    ...(command ? { command } : {}),
    ...(name !== "" ? { name } : {}),
    ...(values.memory.trim() !== "" ? { memory: values.memory.trim() } : {}),
    ...(values.cpus.trim() !== "" ? { cpus: values.cpus.trim() } : {}),
    ...(pids !== undefined ? { pids } : {}),
    ...(env.length > 0 ? { env } : {}),
    ...(ports.length > 0 ? { ports } : {}),
    ...(values.constraints.trim() !== "" ? { constraints: values.constraints.trim() } : {}),
    ...(volumes.length > 0 ? { volumes } : {}),
    ...(tmpfs.length > 0 ? { tmpfs } : {}),
    ...(networks.length > 0 ? { networks } : {}),
    ...(health.check ? { healthCheck: health.check } : {}),
  };
  return { ok: true, replicas, run };
}

/** The same description as a deployment of `replicas`; its name names the replicas (`<name>-<index>`). */
export function deploymentInputOf(run: TRunInput, replicas: number): TDeploymentInput | null {
  if (!run.name) return null;
  return { ...run, name: run.name, replicas };
}

const LIST_FIELDS = {
  volumes: { label: "Volumes", unit: "line" },
  tmpfs: { label: "Tmpfs", unit: "line" },
  networks: { label: "Networks", unit: "name" },
} as const;

type TListField = keyof typeof LIST_FIELDS;

const LIST_FIELD_PATH = /(^|; )(volumes|tmpfs|networks)\.(\d+): /g;

/** The health check's fields as the API names them, and as the form labels them. */
const HEALTH_FIELD_LABELS: Record<string, string> = {
  "test.command": "Health command",
  "test.port": "Health port",
  "test.path": "Health path",
  interval: "Health interval",
  timeout: "Health timeout",
  retries: "Health retries",
  startPeriod: "Health start period",
};

const HEALTH_FIELD_PATH = /(^|; )healthCheck\.([\w.]+?)(?:\.\d+|\[\d+\])?: /g;

/**
 * The API names a list entry by its index (`volumes.0: invalid mount …`); the
 * form says which line it is, counting from 1, as a person sees the field.
 * Health check fields are named by their labels.
 */
export function formProblemOf(message: string): string {
  return message
    .replace(LIST_FIELD_PATH, (_match, start: string, field: TListField, index: string) => {
      const { label, unit } = LIST_FIELDS[field];
      return `${start}${label}, ${unit} ${Number(index) + 1}: `;
    })
    .replace(HEALTH_FIELD_PATH, (match, start: string, field: string) => {
      const label = HEALTH_FIELD_LABELS[field];
      return label ? `${start}${label}: ` : match;
    });
}

/** The list fields an API message blames, so the form can mark them. */
export function listFieldsIn(message: string): Set<TListField> {
  return new Set([...message.matchAll(LIST_FIELD_PATH)].map((match) => match[2] as TListField));
}
