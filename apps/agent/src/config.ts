/**
 * The agent's configuration: command-line flags, each with an environment
 * variable behind it (flags win), validated with zod. This is the only module
 * that reads `process.env`.
 */
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { parseLabel, ZLabels } from "@fleet/shared/label-selector";
import { ZServerPin } from "@fleet/shared/server-pin";
import { parseBytes, parseCpus, parseDuration } from "@fleet/shared/units";
import { z } from "zod";

export const DEFAULT_STATE_DIR = "/var/lib/fleet-agent";

export const ZLogLevel = z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]);
export type TLogLevel = z.infer<typeof ZLogLevel>;

/** Raised for anything wrong on the command line or in the environment; main prints it and exits 2. */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly exitCode = 2;
}

interface FlagDoc {
  flag: string;
  value: string | null;
  env: string | null;
  default: string | null;
  help: string;
  multiple?: boolean;
}

const FLAGS = {
  server: {
    flag: "server",
    value: "<url>",
    env: "FLEET_SERVER",
    default: null,
    help: "URL of the central (http(s):// or ws(s)://); the agent dials <url>/agent. Required.",
  },
  "join-token": {
    flag: "join-token",
    value: "<token>",
    env: "FLEET_JOIN_TOKEN",
    default: null,
    help: "Single-use token to join the fleet. Needed only until the host credential is stored in the state dir.",
  },
  engine: {
    flag: "engine",
    value: "<url>",
    env: "FLEET_ENGINE",
    default: "DOCKER_HOST, else the first of /var/run/docker.sock and /run/podman/podman.sock that answers",
    help: "Unix socket of the Docker or Podman engine (unix:///path/to.sock). The engine must run on this host: the agent reads its containers' cgroup files.",
  },
  name: {
    flag: "name",
    value: "<name>",
    env: "FLEET_NAME",
    default: "the machine's hostname",
    help: "Name the host is shown under in the fleet.",
  },
  label: {
    flag: "label",
    value: "<key=value>",
    env: "FLEET_LABELS",
    default: null,
    help: "Host label for scheduling constraints; repeat the flag for more. The env var takes a comma-separated list; a flag wins over the env var for the same key.",
    multiple: true,
  },
  "state-dir": {
    flag: "state-dir",
    value: "<dir>",
    env: "FLEET_STATE_DIR",
    default: DEFAULT_STATE_DIR,
    help: "Directory holding the host credential (credential.json, mode 0600).",
  },
  "metrics-interval": {
    flag: "metrics-interval",
    value: "<duration>",
    env: "FLEET_METRICS_INTERVAL",
    default: "5s",
    help: "How often container and host metrics are sampled and sent (e.g. 5s, 500ms, 1m); once connected, the central's setting wins.",
  },
  "reserve-cpu": {
    flag: "reserve-cpu",
    value: "<cpus>",
    env: "FLEET_RESERVE_CPU",
    default: "0.1",
    help: "CPU kept back from scheduling for the system, agent and engine (cores such as 0.5, or millicores such as 500m).",
  },
  "reserve-memory": {
    flag: "reserve-memory",
    value: "<size>",
    env: "FLEET_RESERVE_MEMORY",
    default: "256m",
    help: "Memory kept back from scheduling (e.g. 256m, 1g).",
  },
  "server-pin": {
    flag: "server-pin",
    value: "sha256//<base64>",
    env: "FLEET_SERVER_PIN",
    default: "the pin stored with the host credential, if any",
    help: "The SHA-256 of the central's public key, as the join command shows it. The agent then accepts only a central holding that key (its certificate may be self-signed) and sends nothing to any other; the pin is stored with the host credential and kept for later connections. Needs an https:// or wss:// server.",
  },
  "ca-file": {
    flag: "ca-file",
    value: "<pem>",
    env: "FLEET_CA_FILE",
    default: null,
    help: "PEM file with a CA certificate to trust for wss:// in addition to the system roots.",
  },
  "cgroup-parent": {
    flag: "cgroup-parent",
    value: "<path>",
    env: "FLEET_CGROUP_PARENT",
    default: null,
    help: "Cgroup parent for the containers the agent creates (default: the engine's own).",
  },
  "log-level": {
    flag: "log-level",
    value: "<level>",
    env: "FLEET_LOG_LEVEL",
    default: "info",
    help: `Log level: ${ZLogLevel.options.join(", ")}. Logs are JSON lines on stdout.`,
  },
  help: { flag: "help", value: null, env: null, default: null, help: "Show this help and exit." },
  version: {
    flag: "version",
    value: null,
    env: null,
    default: null,
    help: "Print the version and commit, and exit.",
  },
} satisfies Record<string, FlagDoc>;

type FlagName = keyof typeof FLAGS;

/** Every flag the agent knows, for docs and tests. */
export const AGENT_FLAGS: readonly FlagDoc[] = Object.values(FLAGS);

export function agentHelpText(): string {
  const lines = [
    "fleet-agent: runs and supervises this host's containers for a Fleet central.",
    "",
    "Usage: fleet-agent --server <url> --join-token <token> [options]",
    "",
    "Every flag can also be given through its environment variable; a flag wins over its variable.",
    "",
    "Options:",
  ];
  for (const doc of AGENT_FLAGS) {
    const head = `  --${doc.flag}${doc.value ? ` ${doc.value}` : ""}${doc.flag === "help" ? ", -h" : ""}`;
    lines.push(head);
    lines.push(`      ${doc.help}`);
    const meta: string[] = [];
    if (doc.env) meta.push(`env ${doc.env}`);
    if (doc.default) meta.push(`default ${doc.default}`);
    if (meta.length > 0) lines.push(`      (${meta.join("; ")})`);
  }
  lines.push(
    "",
    "Exit codes: 0 after SIGTERM/SIGINT (containers keep running), 1 on a fatal error",
    "(e.g. the join token was rejected), 2 on a configuration error.",
  );
  return lines.join("\n");
}

const ZServerUrl = z
  .string()
  .min(1, { error: "is required" })
  .refine(
    (value) => {
      try {
        return ["http:", "https:", "ws:", "wss:"].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { error: "must be an http://, https://, ws:// or wss:// URL" },
  );

const ZEngineUrl = z.string().refine((value) => /^(unix:\/\/)?\/\S+$/.test(value), {
  error: "must be unix:///path/to/socket (only local engines are supported)",
});

/** Wraps a units parser so its error message becomes a zod issue. */
function unit<T>(parse: (text: string) => T) {
  return z.string().transform((text, ctx) => {
    try {
      return parse(text);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: error instanceof Error ? error.message : String(error) });
      return z.NEVER;
    }
  });
}

export const ZAgentConfig = z
  .object({
    serverUrl: ZServerUrl,
    joinToken: z.string().min(1).max(4096).nullable(),
    /** null: discover (DOCKER_HOST, then the usual Docker and Podman sockets). */
    engine: ZEngineUrl.nullable(),
    /** DOCKER_HOST from the environment, for engine discovery. */
    dockerHost: z.string().min(1).nullable(),
    name: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: "must be letters, digits, '_', '.' or '-'" }),
    labels: ZLabels,
    stateDir: z.string().min(1),
    metricsIntervalMs: unit(parseDuration).pipe(z.int().min(100, { error: "must be at least 100ms" })),
    // "0" is a valid reserve though parseCpus refuses zero cores for a container.
    reserveCpuMillis: unit((text) => (/^0*(\.0*)?m?$/.test(text.trim()) ? 0 : parseCpus(text))),
    reserveMemoryBytes: unit(parseBytes),
    serverPin: ZServerPin.nullable(),
    caFile: z.string().min(1).nullable(),
    cgroupParent: z.string().min(1).nullable(),
    logLevel: ZLogLevel,
  })
  .refine((config) => config.serverPin === null || /^(https|wss):/.test(config.serverUrl), {
    error: "a pinned central must be dialled over TLS: use its https:// agent URL",
    path: ["serverPin"],
  });
export type TAgentConfig = z.output<typeof ZAgentConfig>;

export type TConfigOutcome =
  | { kind: "run"; config: TAgentConfig }
  | { kind: "help"; text: string }
  | { kind: "version" };

type Env = Readonly<Record<string, string | undefined>>;

const FIELD_FLAG: Record<keyof TAgentConfig, FlagName> = {
  serverUrl: "server",
  joinToken: "join-token",
  engine: "engine",
  dockerHost: "engine",
  name: "name",
  labels: "label",
  stateDir: "state-dir",
  metricsIntervalMs: "metrics-interval",
  reserveCpuMillis: "reserve-cpu",
  reserveMemoryBytes: "reserve-memory",
  serverPin: "server-pin",
  caFile: "ca-file",
  cgroupParent: "cgroup-parent",
  logLevel: "log-level",
};

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

function parseLabelList(entries: readonly string[], source: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const entry of entries) {
    if (!entry.includes("=")) throw new ConfigError(`${source}: label "${entry}" must be key=value`);
    try {
      const [key, value] = parseLabel(entry);
      labels[key] = value;
    } catch (error) {
      throw new ConfigError(`${source}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return labels;
}

/**
 * Reads the agent's configuration from argv (without node and the script) and
 * an environment. Pure: tests pass their own argv and env.
 */
export function parseAgentConfig(
  argv: readonly string[],
  env: Env,
  defaults: { hostname: string } = { hostname: hostname() },
): TConfigOutcome {
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {};
  for (const doc of AGENT_FLAGS) {
    options[doc.flag] = {
      type: doc.value ? "string" : "boolean",
      ...(doc.multiple ? { multiple: true } : {}),
      ...(doc.flag === "help" ? { short: "h" } : {}),
    };
  }
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (error) {
    // node's messages name the flag ("Unknown option '--servr'"); keep them.
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) return { kind: "help", text: agentHelpText() };
  if (values.version === true) return { kind: "version" };

  const pick = (name: FlagName): string | undefined => {
    const fromFlag = values[name];
    if (typeof fromFlag === "string") return fromFlag;
    const envName = FLAGS[name].env;
    return envName ? nonEmpty(env[envName]) : undefined;
  };

  const envLabels = nonEmpty(env.FLEET_LABELS);
  const labels = {
    ...parseLabelList(
      envLabels
        ? envLabels
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean)
        : [],
      "FLEET_LABELS",
    ),
    ...parseLabelList((values.label as string[] | undefined) ?? [], "--label"),
  };

  const raw = {
    serverUrl: pick("server") ?? "",
    joinToken: pick("join-token") ?? null,
    engine: pick("engine") ?? null,
    dockerHost: nonEmpty(env.DOCKER_HOST) ?? null,
    name: pick("name") ?? defaults.hostname,
    labels,
    stateDir: pick("state-dir") ?? DEFAULT_STATE_DIR,
    metricsIntervalMs: pick("metrics-interval") ?? "5s",
    reserveCpuMillis: pick("reserve-cpu") ?? "0.1",
    reserveMemoryBytes: pick("reserve-memory") ?? "256m",
    serverPin: pick("server-pin") ?? null,
    caFile: pick("ca-file") ?? null,
    cgroupParent: pick("cgroup-parent") ?? null,
    logLevel: (pick("log-level") ?? "info").toLowerCase(),
  };

  const parsed = ZAgentConfig.safeParse(raw);
  if (!parsed.success) {
    const messages = parsed.error.issues.map((issue) => {
      const field = issue.path[0] as keyof TAgentConfig | undefined;
      const doc = field ? FLAGS[FIELD_FLAG[field]] : undefined;
      const where = doc ? `--${doc.flag}${doc.env ? ` (${doc.env})` : ""}` : "config";
      const detail = issue.path.length > 1 ? ` [${issue.path.slice(1).join(".")}]` : "";
      return `${where}${detail}: ${issue.message}`;
    });
    throw new ConfigError(messages.join("\n"));
  }
  return { kind: "run", config: parsed.data };
}

/** The process's own argv and environment. */
export function parseProcessConfig(): TConfigOutcome {
  return parseAgentConfig(process.argv.slice(2), process.env);
}

/** What a self-upgrade needs from the process's environment (see upgrade/trial.ts). */
export interface TUpgradeEnvironment {
  /** Set when this process is a trial run: the file to write once the central accepted its hello. */
  trialFile: string | null;
  /** The path this binary is kept under once the trial succeeds; null: its own path. */
  executable: string | null;
  deadlineMs: number | null;
  /** Started by systemd, which starts the unit's binary again when this process exits. */
  underSystemd: boolean;
  /** The environment a new binary is started with: this one, minus the trial's own variables. */
  childEnv: NodeJS.ProcessEnv;
}

export function processUpgradeEnvironment(names: {
  trial: string;
  executable: string;
  deadline: string;
}): TUpgradeEnvironment {
  const env = process.env;
  const childEnv = { ...env };
  delete childEnv[names.trial];
  delete childEnv[names.executable];
  return {
    trialFile: env[names.trial] || null,
    executable: env[names.executable] || null,
    deadlineMs: Number(env[names.deadline]) || null,
    underSystemd: Boolean(env.INVOCATION_ID),
    childEnv,
  };
}

/** The config as it is safe to log: the join token is a secret. */
export function redactConfig(config: TAgentConfig): Record<string, unknown> {
  return { ...config, joinToken: config.joinToken ? "<redacted>" : null };
}
