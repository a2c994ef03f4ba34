// The central's configuration, from environment variables, checked with zod.
// This is the only place in apps/web that reads or writes process.env:
// everything else receives a TEnv (or the part of it it needs). Tests build
// one with `loadEnv({ FLEET_BOOTSTRAP_TOKEN: "…" })`, which reads only what it
// is given.
import { hostname } from "node:os";
import { parseDuration, UnitError } from "@fleet/shared/units";
import { z } from "zod";
import { describeIssues } from "./errors";

export const ZLogLevel = z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]);
export type TLogLevel = z.infer<typeof ZLogLevel>;

const optionalText = z.string().trim().optional();

function duration(defaultValue: string) {
  return z
    .string()
    .trim()
    .default(defaultValue)
    .transform((text, ctx) => {
      try {
        const ms = parseDuration(text);
        if (ms <= 0) throw new UnitError(`duration "${text}" must be longer than zero`);
        return ms;
      } catch (error) {
        ctx.addIssue({ code: "custom", message: error instanceof Error ? error.message : String(error) });
        return z.NEVER;
      }
    });
}

const flag = z
  .enum(["0", "1", "false", "true"])
  .default("0")
  .transform((value) => value === "1" || value === "true");

const port = z.coerce.number().int().min(0).max(65_535);

/** Below the ephemeral range, next to PORT's 3000 and the usual 443. */
export const DEFAULT_AGENT_PORT = 3443;

export const ZEnvSource = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: port.default(3000),
  HOST: z.string().trim().min(1).default("0.0.0.0"),
  DATABASE_URL: optionalText,
  FLEET_DATA_DIR: z.string().trim().min(1).default("./.fleet"),
  FLEET_EMBEDDED_DB_PORT: port.optional(),
  FLEET_TLS_CERT: optionalText,
  FLEET_TLS_KEY: optionalText,
  // The agents' own TLS port: /agent, /install.sh and /download/*. Without
  // FLEET_TLS_CERT it serves a self-signed certificate that hosts pin.
  FLEET_AGENT_PORT: port.default(DEFAULT_AGENT_PORT),
  // What hosts dial for that port when FLEET_PUBLIC_URL's host is not it (NAT, a port forward).
  FLEET_AGENT_URL: z.url({ protocol: /^https$/ }).optional(),
  // Where the agent and CLI executables are served from (default: the checkout's dist/).
  FLEET_DOWNLOADS_DIR: optionalText,
  FLEET_BOOTSTRAP_TOKEN: z
    .string()
    .trim()
    .min(24, "must be at least 24 characters (e.g. openssl rand -hex 24)")
    .max(512)
    .optional(),
  // The first administrator's email; without it one is made up (admin-<random>@fleet.local).
  FLEET_ADMIN_EMAIL: z.email().trim().toLowerCase().max(320).optional(),
  FLEET_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  FLEET_HEARTBEAT_INTERVAL: duration("5s"),
  FLEET_OFFLINE_AFTER: duration("15s"),
  FLEET_METRICS_INTERVAL: duration("5s"),
  FLEET_RETENTION_RAW: duration("24h"),
  FLEET_RETENTION_MINUTE: duration("7d"),
  FLEET_RETENTION_HOUR: duration("90d"),
  FLEET_LOG_LEVEL: ZLogLevel.default("info"),
  // `/metrics` takes this bearer token, or any API token; with
  // FLEET_METRICS_PUBLIC=1 it needs none.
  FLEET_METRICS_TOKEN: z
    .string()
    .trim()
    .min(24, "must be at least 24 characters (e.g. openssl rand -hex 24)")
    .max(512)
    .optional(),
  FLEET_METRICS_PUBLIC: flag,
  // Behind a reverse proxy every request comes from the proxy's address: with
  // this set, the client is the last address the proxy appended to
  // X-Forwarded-For (used for throttling and the audit log).
  FLEET_TRUST_PROXY: flag,
  // Several replicas on one database: each has an id (default: the hostname
  // and a random suffix, new at every start) and an address the others reach
  // it at for operations on the hosts it holds (default: http(s)://HOST:PORT,
  // the hostname when HOST is a wildcard).
  FLEET_REPLICA_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "letters, digits, '.', '_' and '-', at most 63")
    .optional(),
  FLEET_INTERNAL_URL: z.url({ protocol: /^https?$/ }).optional(),
});

/**
 * The checked configuration, keyed by the variables' own names so a reader
 * can grep for them. Durations are milliseconds; FLEET_PUBLIC_URL is always
 * set (derived from the hostname and PORT when not given), without a
 * trailing slash.
 */
export type TEnv = Omit<z.output<typeof ZEnvSource>, "FLEET_PUBLIC_URL"> & { FLEET_PUBLIC_URL: string };

export class EnvError extends Error {
  override name = "EnvError";
}

export type TEnvSource = Readonly<Record<string, string | undefined>>;

// A variable set to nothing counts as unset, as in most shells' configs.
function givenIn(source: TEnvSource): Record<string, string> {
  return Object.fromEntries(
    Object.entries(source).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1].trim() !== "",
    ),
  );
}

/** Reads and checks the configuration; throws EnvError naming every bad variable. */
export function loadEnv(source: TEnvSource = process.env): TEnv {
  const parsed = ZEnvSource.safeParse(givenIn(source));
  if (!parsed.success) throw new EnvError(`invalid configuration: ${describeIssues(parsed.error.issues)}`);
  const env = parsed.data;
  if (Boolean(env.FLEET_TLS_CERT) !== Boolean(env.FLEET_TLS_KEY)) {
    throw new EnvError("invalid configuration: FLEET_TLS_CERT and FLEET_TLS_KEY must be set together");
  }
  if (env.FLEET_AGENT_PORT !== 0 && env.FLEET_AGENT_PORT === env.PORT) {
    throw new EnvError("invalid configuration: FLEET_AGENT_PORT must differ from PORT");
  }
  const scheme = env.FLEET_TLS_CERT ? "https" : "http";
  const publicUrl = env.FLEET_PUBLIC_URL ?? `${scheme}://${hostname()}:${env.PORT}`;
  const agentUrl = env.FLEET_AGENT_URL ? new URL(env.FLEET_AGENT_URL) : null;
  if (agentUrl && (agentUrl.pathname !== "/" || agentUrl.search || agentUrl.hash || agentUrl.username)) {
    throw new EnvError("invalid configuration: FLEET_AGENT_URL must be https://host[:port] and nothing more");
  }
  return {
    ...env,
    FLEET_PUBLIC_URL: publicUrl.replace(/\/+$/, ""),
    FLEET_AGENT_URL: agentUrl ? agentUrl.origin : undefined,
  };
}

const ZDatabaseEnvSource = ZEnvSource.pick({
  DATABASE_URL: true,
  FLEET_DATA_DIR: true,
  FLEET_EMBEDDED_DB_PORT: true,
});

/** What chooses the database: DATABASE_URL, else the embedded server in FLEET_DATA_DIR. */
export type TDatabaseEnv = z.output<typeof ZDatabaseEnvSource>;

/**
 * Only the variables that choose the database, for `npm run db:migrate` and
 * `db:convert-pglite`: they must not refuse to run over a variable only the
 * central itself reads.
 */
export function loadDatabaseEnv(source: TEnvSource = process.env): TDatabaseEnv {
  const parsed = ZDatabaseEnvSource.safeParse(givenIn(source));
  if (!parsed.success) throw new EnvError(`invalid configuration: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}

/** What child processes started with a clean environment (the embedded PostgreSQL server) still get of ours. */
export interface TInheritedEnv {
  NODE_ENV: string | undefined;
  PATH: string | undefined;
}

export function inheritedEnv(source: TEnvSource = process.env): TInheritedEnv {
  return { NODE_ENV: source.NODE_ENV, PATH: source.PATH };
}

/**
 * Next.js and React choose their production code by the process's own
 * NODE_ENV, not by a TEnv: a built central sets it before they load, unless
 * the operator chose one.
 */
export function defaultProcessNodeEnv(value: "production"): void {
  if (!process.env.NODE_ENV) Object.assign(process.env, { NODE_ENV: value });
}
