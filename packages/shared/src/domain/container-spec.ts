// What the central asks an agent to run for one container, plus the docker
// CLI spellings people use for parts of it (`--restart on-failure:3`,
// `-p 127.0.0.1:8080:80/udp`). Browser-safe.
import { z } from "zod";
import { ZImageRef } from "../image-ref";
import { ZLabels } from "../label-selector";
import { parseBytes } from "../units";
import { ZContainerId } from "./ids";

export class ContainerSpecError extends Error {
  override name = "ContainerSpecError";
}

// ---- restart policy ---------------------------------------------------------

export const ZRestartPolicyName = z.enum(["no", "on-failure", "always"]);
export type TRestartPolicyName = z.infer<typeof ZRestartPolicyName>;

export const ZRestartPolicy = z
  .object({
    name: ZRestartPolicyName,
    /** Only for `on-failure`; absent means retry forever. */
    maxRetries: z.int().min(0).max(1_000_000).optional(),
  })
  .refine((policy) => policy.maxRetries === undefined || policy.name === "on-failure", {
    error: "maxRetries is only allowed with the on-failure policy",
    path: ["maxRetries"],
  });
export type TRestartPolicy = z.infer<typeof ZRestartPolicy>;

/** Reads docker's `--restart` forms: `no`, `always`, `on-failure`, `on-failure:3`. */
export function parseRestartPolicy(input: string): TRestartPolicy {
  const [name = "", retries, ...extra] = input.trim().split(":");
  const fail = () =>
    new ContainerSpecError(
      `invalid restart policy "${input}": use no, always, on-failure or on-failure:<max retries>`,
    );
  const parsedName = ZRestartPolicyName.safeParse(name);
  if (!parsedName.success || extra.length > 0) throw fail();
  if (retries === undefined) return { name: parsedName.data };
  if (parsedName.data !== "on-failure" || !/^\d{1,7}$/.test(retries)) throw fail();
  const policy = ZRestartPolicy.safeParse({ name: parsedName.data, maxRetries: Number(retries) });
  if (!policy.success) throw fail();
  return policy.data;
}

export function formatRestartPolicy(policy: TRestartPolicy): string {
  return policy.maxRetries === undefined ? policy.name : `${policy.name}:${policy.maxRetries}`;
}

// ---- port mappings ----------------------------------------------------------

const ZPort = z.int().min(1).max(65535);
export const ZProtocol = z.enum(["tcp", "udp"]);
const ZIpAddress = z.union([z.ipv4(), z.ipv6()], { error: "must be an IPv4 or IPv6 address" });

export const ZPortMapping = z.object({
  containerPort: ZPort,
  /** Absent: the engine picks a free host port. */
  hostPort: ZPort.optional(),
  protocol: ZProtocol.default("tcp"),
  /** Absent: all interfaces. */
  hostIp: ZIpAddress.optional(),
});
export type TPortMapping = z.infer<typeof ZPortMapping>;
export type TPortMappingInput = z.input<typeof ZPortMapping>;

function parsePort(text: string, what: string, input: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new ContainerSpecError(
      `invalid port mapping "${input}": ${what} "${text}" must be a number from 1 to 65535`,
    );
  }
  return port;
}

/** Reads docker's `-p` forms: `80`, `8080:80`, `127.0.0.1:8080:80`, `127.0.0.1::80`, `[::1]:8080:80`, each with an optional `/udp` or `/tcp`. */
export function parsePortMapping(input: string): TPortMapping {
  const fail = (reason: string) => new ContainerSpecError(`invalid port mapping "${input}": ${reason}`);
  let rest = input.trim();
  let protocol: TPortMapping["protocol"] = "tcp";
  const slash = rest.lastIndexOf("/");
  if (slash !== -1) {
    const parsed = ZProtocol.safeParse(rest.slice(slash + 1).toLowerCase());
    if (!parsed.success) throw fail(`protocol "${rest.slice(slash + 1)}" must be tcp or udp`);
    protocol = parsed.data;
    rest = rest.slice(0, slash);
  }

  let hostIp: string | undefined;
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close === -1 || rest[close + 1] !== ":")
      throw fail("a bracketed IPv6 address must be followed by ':'");
    hostIp = rest.slice(1, close);
    rest = rest.slice(close + 2);
  }
  const parts = rest.split(":");
  let hostPortText: string | undefined;
  let containerPortText: string;
  if (hostIp !== undefined) {
    if (parts.length !== 2) throw fail("expected [ip]:hostPort:containerPort");
    [hostPortText, containerPortText] = parts as [string, string];
  } else if (parts.length === 1) {
    containerPortText = parts[0] as string;
  } else if (parts.length === 2) {
    [hostPortText, containerPortText] = parts as [string, string];
  } else if (parts.length === 3) {
    [hostIp, hostPortText, containerPortText] = parts as [string, string, string];
  } else {
    throw fail(
      "expected containerPort, hostPort:containerPort or ip:hostPort:containerPort (bracket IPv6 addresses)",
    );
  }
  if (/^\d+-\d+$/.test(containerPortText) || (hostPortText && /^\d+-\d+$/.test(hostPortText))) {
    throw fail("port ranges are not supported; map each port on its own");
  }

  const mapping: TPortMapping = {
    containerPort: parsePort(containerPortText, "container port", input),
    protocol,
  };
  if (hostPortText !== undefined && hostPortText !== "") {
    mapping.hostPort = parsePort(hostPortText, "host port", input);
  } else if (hostPortText === "" && hostIp === undefined) {
    throw fail("the host port is empty");
  }
  if (hostIp !== undefined) {
    if (!ZIpAddress.safeParse(hostIp).success) throw fail(`"${hostIp}" is not an IP address`);
    mapping.hostIp = hostIp;
  }
  return mapping;
}

/** Prints a mapping in the `-p` syntax `parsePortMapping` reads. */
export function formatPortMapping(mapping: TPortMappingInput): string {
  const protocol = mapping.protocol === "udp" ? "/udp" : "";
  const hostPort = mapping.hostPort === undefined ? "" : String(mapping.hostPort);
  if (mapping.hostIp !== undefined) {
    const ip = mapping.hostIp.includes(":") ? `[${mapping.hostIp}]` : mapping.hostIp;
    return `${ip}:${hostPort}:${mapping.containerPort}${protocol}`;
  }
  return `${hostPort === "" ? "" : `${hostPort}:`}${mapping.containerPort}${protocol}`;
}

const UNSPECIFIED_IPS = new Set(["0.0.0.0", "::"]);

/** Whether two mappings would bind the same host port (an absent or unspecified IP means every address). */
export function portMappingsConflict(a: TPortMappingInput, b: TPortMappingInput): boolean {
  if (a.hostPort === undefined || b.hostPort === undefined) return false;
  if (a.hostPort !== b.hostPort || (a.protocol ?? "tcp") !== (b.protocol ?? "tcp")) return false;
  const anyA = a.hostIp === undefined || UNSPECIFIED_IPS.has(a.hostIp);
  const anyB = b.hostIp === undefined || UNSPECIFIED_IPS.has(b.hostIp);
  return anyA || anyB || a.hostIp === b.hostIp;
}

// ---- resources --------------------------------------------------------------

/** docker and podman refuse memory limits below 6 MiB. */
export const MIN_MEMORY_LIMIT_BYTES = 6 * 1024 * 1024;
/** The kernel's smallest CFS quota is 1 ms per 100 ms period, i.e. 0.01 CPU. */
export const MIN_CPU_LIMIT_MILLIS = 10;

const ZCount = z.int().nonnegative();

/**
 * Requests drive placement (the scheduler reserves them on a host); limits
 * are what the cgroup enforces. A null limit means unlimited.
 */
export const ZResources = z
  .object({
    cpuRequestMillis: ZCount,
    cpuLimitMillis: ZCount.min(MIN_CPU_LIMIT_MILLIS, {
      error: `must be at least ${MIN_CPU_LIMIT_MILLIS} millicores (0.01 CPU)`,
    }).nullable(),
    memoryRequestBytes: ZCount,
    memoryLimitBytes: ZCount.min(MIN_MEMORY_LIMIT_BYTES, { error: "must be at least 6 MiB" }).nullable(),
    pidsRequest: ZCount,
    pidsLimit: ZCount.min(1).nullable(),
  })
  .superRefine((resources, ctx) => {
    const pairs = [
      ["cpuRequestMillis", "cpuLimitMillis"],
      ["memoryRequestBytes", "memoryLimitBytes"],
      ["pidsRequest", "pidsLimit"],
    ] as const;
    for (const [request, limit] of pairs) {
      const limitValue = resources[limit];
      if (limitValue !== null && resources[request] > limitValue) {
        ctx.addIssue({ code: "custom", message: `${request} must not exceed ${limit}`, path: [request] });
      }
    }
  });
export type TResources = z.infer<typeof ZResources>;

// ---- mounts and networks ----------------------------------------------------

export const MAX_MOUNTS = 32;
export const MAX_NETWORKS = 8;
/** A tmpfs without a size would take up to half the host's memory; this is what `--tmpfs /path` gets. */
export const DEFAULT_TMPFS_BYTES = 64 * 1024 * 1024;
export const MAX_TMPFS_BYTES = 64 * 1024 * 1024 * 1024;

/** docker's rule for volume and network names, bounded to 64. */
const OBJECT_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const OBJECT_NAME_ERROR = "must be 2-64 letters, digits, '_', '.' or '-', starting with a letter or digit";

export const ZVolumeName = z.string().max(64).regex(OBJECT_NAME_PATTERN, { error: OBJECT_NAME_ERROR });
export type TVolumeName = z.infer<typeof ZVolumeName>;

/**
 * The engines' own networks: joining `host` or `none` would change what
 * isolation the container gets, and the default bridges are not user networks
 * (no name resolution between containers).
 */
export const RESERVED_NETWORK_NAMES = ["host", "none", "bridge", "default", "podman"] as const;

export const ZNetworkName = z
  .string()
  .max(64)
  .regex(OBJECT_NAME_PATTERN, { error: OBJECT_NAME_ERROR })
  .refine((name) => !(RESERVED_NETWORK_NAMES as readonly string[]).includes(name), {
    error: `is an engine network; use a network of your own (not ${RESERVED_NETWORK_NAMES.join(", ")})`,
  });
export type TNetworkName = z.infer<typeof ZNetworkName>;

function absolutePathProblem(path: string): string | null {
  if (!path.startsWith("/")) return "must be an absolute path";
  if (path.includes("\0")) return "must not contain NUL characters";
  if (path.split("/").includes("..")) return "must not contain '..'";
  if (path.includes(":") || path.includes(",")) return "must not contain ':' or ','";
  return null;
}

/** An absolute path, not `/` itself, without `..`; `:` and `,` are the mount syntax's separators. */
const ZAbsolutePath = z
  .string()
  .min(2, { error: "must be an absolute path other than /" })
  .max(4096)
  .superRefine((path, ctx) => {
    const problem = absolutePathProblem(path);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

export const ZVolumeMount = z.object({
  type: z.literal("volume"),
  /** A named volume on the container's host; created there when missing. */
  source: ZVolumeName,
  target: ZAbsolutePath,
  readOnly: z.boolean().default(false),
});

export const ZBindMount = z.object({
  type: z.literal("bind"),
  /** A path on the host; the central only accepts it under a prefix an administrator allowed. */
  source: ZAbsolutePath,
  target: ZAbsolutePath,
  readOnly: z.boolean().default(false),
});

export const ZTmpfsMount = z.object({
  type: z.literal("tmpfs"),
  target: ZAbsolutePath,
  /** Counts against the container's memory limit as it fills. */
  sizeBytes: z.int().min(4096).max(MAX_TMPFS_BYTES),
});

export const ZMount = z.discriminatedUnion("type", [ZVolumeMount, ZBindMount, ZTmpfsMount]);
export type TMount = z.infer<typeof ZMount>;
export type TMountInput = z.input<typeof ZMount>;
export type TVolumeMount = z.infer<typeof ZVolumeMount>;

// ---- bind mount prefixes ----------------------------------------------------

export const MAX_BIND_MOUNT_PREFIXES = 64;

/**
 * A host path prefix an administrator allows bind mounts under: absolute, not
 * `/` (that would allow every path), without `..`; a trailing `/` is dropped.
 * Agents compare it with the real path of each bind source (symlinks
 * resolved), so it must be written as a real path itself.
 */
export const ZBindMountPrefix = z
  .string()
  .trim()
  .max(4096)
  .superRefine((path, ctx) => {
    const problem = !path.startsWith("/")
      ? "must be an absolute path"
      : path.includes("\0")
        ? "must not contain NUL characters"
        : path.split("/").includes("..")
          ? "must not contain '..'"
          : /^\/+$/.test(path)
            ? "must not be / itself: that would allow every host path"
            : null;
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .transform((path) => path.replace(/\/+$/, "").replace(/\/{2,}/g, "/"));

export const ZBindMountPrefixes = z
  .array(ZBindMountPrefix)
  .max(MAX_BIND_MOUNT_PREFIXES)
  .transform((prefixes) => [...new Set(prefixes)]);

/**
 * The one rule for a bind source and the allowed prefixes, applied by the
 * central to the path as written and by the agent to its real path:
 * `/srv/data` allows `/srv/data` and `/srv/data/x`, not `/srv/database`.
 */
export function isBindPathAllowed(path: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

/**
 * Reads docker's `-v` forms: `data:/var/lib/app` (named volume),
 * `/srv/app:/etc/app` (bind mount of a host path), each with an optional
 * `:ro` or `:rw`.
 */
export function parseMount(input: string): TMount {
  const fail = (reason: string) => new ContainerSpecError(`invalid mount "${input}": ${reason}`);
  const parts = input.trim().split(":");
  if (parts.length < 2 || parts.length > 3) {
    throw fail("expected volume:/path, /host/path:/path, each optionally followed by :ro");
  }
  const [source = "", target = "", mode] = parts;
  if (mode !== undefined && mode !== "ro" && mode !== "rw") throw fail(`mode "${mode}" must be ro or rw`);
  const targetProblem =
    target.length < 2 ? "must be an absolute path other than /" : absolutePathProblem(target);
  if (targetProblem) throw fail(`the container path "${target}" ${targetProblem}`);
  const readOnly = mode === "ro";
  if (source.startsWith("/")) {
    const sourceProblem = source.length < 2 ? "must not be / itself" : absolutePathProblem(source);
    if (sourceProblem) throw fail(`the host path "${source}" ${sourceProblem}`);
    return { type: "bind", source, target, readOnly };
  }
  const name = ZVolumeName.safeParse(source);
  if (!name.success) throw fail(`the volume name "${source}" ${OBJECT_NAME_ERROR}`);
  return { type: "volume", source: name.data, target, readOnly };
}

/** Reads docker's `--tmpfs` form `/path` or `/path:size=64m` (sizes as `parseBytes` reads them). */
export function parseTmpfs(input: string): TMount {
  const fail = (reason: string) => new ContainerSpecError(`invalid tmpfs "${input}": ${reason}`);
  const [target = "", options, ...extra] = input.trim().split(":");
  if (extra.length > 0) throw fail("expected /path or /path:size=<bytes>");
  const targetProblem =
    target.length < 2 ? "must be an absolute path other than /" : absolutePathProblem(target);
  if (targetProblem) throw fail(`the container path "${target}" ${targetProblem}`);
  let sizeBytes = DEFAULT_TMPFS_BYTES;
  if (options !== undefined) {
    const size = /^size=(.+)$/.exec(options)?.[1];
    if (size === undefined) throw fail(`option "${options}" must be size=<bytes>, e.g. size=64m`);
    try {
      sizeBytes = parseBytes(size);
    } catch (error) {
      throw fail(error instanceof Error ? error.message : String(error));
    }
    if (sizeBytes < 4096 || sizeBytes > MAX_TMPFS_BYTES) throw fail("the size must be from 4k to 64g");
  }
  return { type: "tmpfs", target, sizeBytes };
}

/** Prints a volume or bind mount in the `-v` syntax `parseMount` reads, a tmpfs as `/path:size=<bytes>`. */
export function formatMount(mount: TMountInput): string {
  if (mount.type === "tmpfs") return `${mount.target}:size=${mount.sizeBytes}`;
  return `${mount.source}:${mount.target}${mount.readOnly ? ":ro" : ""}`;
}

/** The named volumes a spec mounts, each once. */
export function volumeNamesOf(mounts: readonly TMountInput[]): string[] {
  return [...new Set(mounts.flatMap((mount) => (mount.type === "volume" ? [mount.source] : [])))];
}

// ---- health check -----------------------------------------------------------
// Docker's meaning (`--health-cmd`, `--health-interval`, `--health-timeout`,
// `--health-retries`, `--health-start-period`) plus kubelet's HTTP and TCP
// probes. The agent runs every kind itself, the same on Docker and Podman:
// `starting` until the first success (failures inside the start period do
// not count), `healthy` after a success, `unhealthy` after `retries`
// consecutive failures.

export const MAX_HEALTH_PERIOD_MS = 24 * 60 * 60 * 1000;
export const MAX_HEALTH_PATH_LENGTH = 1024;

export const ZHealthCheckTest = z.discriminatedUnion("type", [
  z.object({
    /** Run in the container through the engine's exec API; exit 0 is healthy. `--health-cmd X` is `["sh", "-c", X]`. */
    type: z.literal("exec"),
    command: z
      .array(
        z
          .string()
          .max(8 * 1024)
          .refine((arg) => !arg.includes("\0"), { error: "must not contain NUL characters" }),
      )
      .min(1)
      .max(256),
  }),
  z.object({
    /** `GET path` on the container's port, from inside its network namespace; 2xx and 3xx are healthy. */
    type: z.literal("http"),
    port: ZPort,
    path: z
      .string()
      .max(MAX_HEALTH_PATH_LENGTH)
      .regex(/^\/[\x21-\x7e]*$/, { error: "must start with / and hold no spaces or control characters" })
      .default("/"),
  }),
  z.object({
    /** The container's port accepts a connection, from inside its network namespace. */
    type: z.literal("tcp"),
    port: ZPort,
  }),
]);
export type THealthCheckTest = z.infer<typeof ZHealthCheckTest>;

const ZHealthPeriodMs = z.int().min(0).max(MAX_HEALTH_PERIOD_MS);

export const ZHealthCheck = z.object({
  test: ZHealthCheckTest,
  /** Docker's defaults: every 30 s, 30 s to answer, 3 failures, no start period. */
  intervalMs: ZHealthPeriodMs.min(100).default(30_000),
  timeoutMs: ZHealthPeriodMs.min(100).default(30_000),
  retries: z.int().min(1).max(100).default(3),
  startPeriodMs: ZHealthPeriodMs.default(0),
  /** Restart the container (with the restart policy's backoff) when it turns unhealthy. */
  restartOnUnhealthy: z.boolean().default(false),
});
export type THealthCheck = z.infer<typeof ZHealthCheck>;
export type THealthCheckInput = z.input<typeof ZHealthCheck>;

/** What the agent last concluded; null for a container without a health check (or not running). */
export const ZContainerHealth = z.enum(["starting", "healthy", "unhealthy"]);
export type TContainerHealth = z.infer<typeof ZContainerHealth>;

// ---- container spec ---------------------------------------------------------

export const MAX_COMMAND_ARGS = 256;
export const MAX_COMMAND_ARG_LENGTH = 8 * 1024;
export const MAX_ENV_ENTRIES = 256;
export const MAX_ENV_KEY_LENGTH = 256;
export const MAX_ENV_VALUE_LENGTH = 32 * 1024;
export const MAX_PORT_MAPPINGS = 64;
/** Labels starting with this are set by the agent to manage containers (`fleet.container-id`, …). */
export const RESERVED_LABEL_PREFIX = "fleet.";

/** docker's container name rule (at least two characters), bounded to 128. */
export const ZContainerName = z
  .string()
  .max(128)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/, {
    error: "must be 2-128 letters, digits, '_', '.' or '-', starting with a letter or digit",
  });

const ZEnvKey = z
  .string()
  .max(MAX_ENV_KEY_LENGTH)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "must be letters, digits or '_', not starting with a digit" });
// A NUL byte cannot pass through execve, so the engine would fail later and less clearly.
const ZEnvValue = z
  .string()
  .max(MAX_ENV_VALUE_LENGTH)
  .refine((value) => !value.includes("\0"), { error: "must not contain NUL characters" });

export const ZEnv = z.record(ZEnvKey, ZEnvValue).refine((env) => Object.keys(env).length <= MAX_ENV_ENTRIES, {
  error: `at most ${MAX_ENV_ENTRIES} environment variables are allowed`,
});

export const ZContainerSpec = z
  .object({
    id: ZContainerId,
    name: ZContainerName,
    image: ZImageRef,
    /** null: the image's default command. */
    command: z
      .array(
        z
          .string()
          .max(MAX_COMMAND_ARG_LENGTH)
          .refine((arg) => !arg.includes("\0"), { error: "must not contain NUL characters" }),
      )
      .max(MAX_COMMAND_ARGS)
      .nullable(),
    env: ZEnv,
    ports: z.array(ZPortMapping).max(MAX_PORT_MAPPINGS),
    resources: ZResources,
    restartPolicy: ZRestartPolicy,
    labels: ZLabels,
    /** Absent in specs older than mounts; see spec-hash.ts for why empty ones hash as absent. */
    mounts: z.array(ZMount).max(MAX_MOUNTS).default([]),
    /** User-defined networks on the host to join (created there when missing); empty: the engine's default. */
    networks: z.array(ZNetworkName).max(MAX_NETWORKS).default([]),
    /** null: none (the image's own HEALTHCHECK is not used; the agent runs only this one). */
    healthCheck: ZHealthCheck.nullable().default(null),
  })
  .superRefine((spec, ctx) => {
    spec.mounts.forEach((mount, index) => {
      if (spec.mounts.findIndex((other) => other.target === mount.target) !== index) {
        ctx.addIssue({
          code: "custom",
          message: `${mount.target} is mounted more than once`,
          path: ["mounts", index, "target"],
        });
      }
    });
    spec.networks.forEach((network, index) => {
      if (spec.networks.indexOf(network) !== index) {
        ctx.addIssue({
          code: "custom",
          message: `network ${network} is listed twice`,
          path: ["networks", index],
        });
      }
    });
    for (const key of Object.keys(spec.labels)) {
      if (key.startsWith(RESERVED_LABEL_PREFIX)) {
        ctx.addIssue({
          code: "custom",
          message: `labels starting with "${RESERVED_LABEL_PREFIX}" are reserved for Fleet`,
          path: ["labels", key],
        });
      }
    }
    spec.ports.forEach((mapping, index) => {
      const earlier = spec.ports.findIndex((other, j) => j < index && portMappingsConflict(other, mapping));
      if (earlier !== -1) {
        ctx.addIssue({
          code: "custom",
          message: `host port ${mapping.hostPort}/${mapping.protocol} is already used by ports[${earlier}]`,
          path: ["ports", index, "hostPort"],
        });
      }
    });
  });
export type TContainerSpec = z.infer<typeof ZContainerSpec>;
export type TContainerSpecInput = z.input<typeof ZContainerSpec>;
