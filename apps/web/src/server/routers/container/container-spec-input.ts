// What a person types to describe a container (the dashboard's run form, the
// CLI's `fleet run`, a deployment's template), in docker's spellings:
// `cpus: "0.5"`, `memory: "64m"`, `ports: ["8080:80"]`, `restart:
// "on-failure:3"`. Parsed here into a TContainerTemplate with the shared
// parsers, so every mistake comes back as one BAD_REQUEST naming the field.
import {
  MAX_COMMAND_ARGS,
  MAX_HEALTH_PATH_LENGTH,
  MAX_HEALTH_PERIOD_MS,
  MAX_MOUNTS,
  MAX_NETWORKS,
  MAX_PORT_MAPPINGS,
  parseMount,
  parsePortMapping,
  parseRestartPolicy,
  parseTmpfs,
  type THealthCheckInput,
  type THealthCheckTest,
  type TPortMapping,
  ZHealthCheck,
  ZNetworkName,
  ZPortMapping,
} from "@fleet/shared/domain/container-spec";
import { ZImageRef } from "@fleet/shared/image-ref";
import { MAX_LABELS, parseLabel, ZLabelSelector } from "@fleet/shared/label-selector";
import { formatDuration, parseBytes, parseCpus, parseDuration } from "@fleet/shared/units";
import { z } from "zod";
import {
  resourcesWithDefaultRequests,
  type TContainerTemplate,
  templateProblems,
} from "../../services/placement/container-template";

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function parsed<T>(parse: (text: string) => T) {
  return (text: string, ctx: z.core.$RefinementCtx<unknown>): T => {
    try {
      return parse(text);
    } catch (error) {
      // The shared parsers throw UnitError / ContainerSpecError with a message written for people.
      ctx.addIssue({ code: "custom", message: messageOf(error) });
      return z.NEVER;
    }
  };
}

// A union only picks the branch whose *type* matches; the parsing happens in
// one transform after it, so a parse error reaches the caller as written
// instead of zod's "Invalid input" for a union where no branch passed.

/** `"0.5"`, `"2"`, `"500m"` or a number of cores → millicores. */
const ZCpus = z
  .union([z.string().trim().min(1).max(32), z.number()])
  .transform((value, ctx) => parsed(parseCpus)(String(value), ctx));

/** `"64m"`, `"1g"`, `"512k"` or a number of bytes. */
const ZBytes = z.union([z.string().trim().min(1).max(32), z.number()]).transform((value, ctx) => {
  if (typeof value === "string") return parsed(parseBytes)(value, ctx);
  if (Number.isSafeInteger(value) && value >= 0) return value;
  ctx.addIssue({
    code: "custom",
    message: `must be a whole number of bytes or a size such as 64m, got ${value}`,
  });
  return z.NEVER;
});

const ZPids = z.int().min(0).max(4_194_304);

const ZPortInput = z
  .union([z.string().trim().min(1).max(64), z.object({}).loose()])
  .transform((value, ctx): TPortMapping => {
    if (typeof value === "string") return parsed(parsePortMapping)(value, ctx);
    const mapping = ZPortMapping.safeParse(value);
    if (mapping.success) return mapping.data;
    // Passed on as zod made them, so the error formatter words them like any other.
    for (const issue of mapping.error.issues) ctx.addIssue({ ...issue, path: [...issue.path] });
    return z.NEVER;
  });

const ZEnvInput = z
  // An object, or `KEY=value` lines as `docker run -e` takes them.
  .union([z.record(z.string(), z.string()), z.array(z.string().max(40_000)).max(256)])
  .transform((value, ctx) => {
    if (!Array.isArray(value)) return value;
    const env: Record<string, string> = {};
    for (const [index, line] of value.entries()) {
      const equals = line.indexOf("=");
      if (equals < 1) {
        ctx.addIssue({ code: "custom", message: `"${line.slice(0, 40)}" must be KEY=value`, path: [index] });
        continue;
      }
      env[line.slice(0, equals)] = line.slice(equals + 1);
    }
    return env;
  });

const ZLabelsInput = z
  // An object, or `key=value` (or bare `key`) lines as `docker run --label` takes them.
  .union([z.record(z.string(), z.string()), z.array(z.string().max(400)).max(MAX_LABELS)])
  .transform((value, ctx) => {
    if (!Array.isArray(value)) return value;
    const labels: Record<string, string> = {};
    for (const [index, line] of value.entries()) {
      try {
        const [key, labelValue] = parseLabel(line);
        labels[key] = labelValue;
      } catch (error) {
        ctx.addIssue({ code: "custom", message: messageOf(error), path: [index] });
      }
    }
    return labels;
  });

const ZCommandInput = z
  // An argv array, or one line split on whitespace (no quoting: pass an array for arguments with spaces).
  .union([
    z.array(z.string()).max(MAX_COMMAND_ARGS),
    z
      .string()
      .trim()
      .max(64 * 1024),
  ])
  .transform((value) => (Array.isArray(value) ? value : value === "" ? [] : value.split(/\s+/)));

/** `data:/var/lib/app[:ro]` (named volume) or `/srv/host/path:/etc/app[:ro]` (bind mount), as `docker run -v`. */
const ZVolumeInput = z.string().trim().min(1).max(8192).transform(parsed(parseMount));

/** `/scratch` (64 MiB) or `/scratch:size=16m`, as `docker run --tmpfs`. */
const ZTmpfsInput = z.string().trim().min(1).max(4200).transform(parsed(parseTmpfs));

// ---- health check -----------------------------------------------------------
// Docker's words (`--health-cmd`, `--health-interval 5s`, …) with kubelet's
// HTTP and TCP probes beside the command. Durations are typed as docker's
// flags take them (`5s`, `1m30s`) or given as milliseconds; the result is
// checked against the protocol's own ZHealthCheck, so the API never stores a
// check the agent would refuse.

/** `"5s"`, `"1m30s"` or a number of milliseconds, within the protocol's bounds. */
function ZHealthDuration(min: number) {
  return z.union([z.string().trim().min(1).max(32), z.number()]).transform((value, ctx) => {
    const ms = typeof value === "string" ? parsed(parseDuration)(value, ctx) : value;
    if (typeof ms !== "number") return z.NEVER;
    if (!Number.isSafeInteger(ms) || ms < min || ms > MAX_HEALTH_PERIOD_MS) {
      const shown = typeof value === "string" ? value : `${value} ms`;
      ctx.addIssue({
        code: "custom",
        message: `must be ${min === 0 ? "0" : formatDuration(min)} to ${formatDuration(MAX_HEALTH_PERIOD_MS)}, got ${shown}`,
      });
      return z.NEVER;
    }
    return ms;
  });
}

const ZHealthPort = z
  .int({ error: "must be a port number from 1 to 65535" })
  .min(1, {
    error: "must be a port number from 1 to 65535",
  })
  .max(65535, { error: "must be a port number from 1 to 65535" });

const ZHealthTestInput = z.discriminatedUnion(
  "type",
  [
    z.object({
      type: z.literal("exec"),
      /** An argv run as it is, or one line run by `sh -c` (docker's `--health-cmd`, `CMD-SHELL`). */
      command: z.union([
        z.array(z.string()).min(1, { error: "must not be empty" }),
        z
          .string()
          .trim()
          .min(1, { error: "must not be empty" })
          .max(8 * 1024),
      ]),
    }),
    z.object({
      type: z.literal("http"),
      port: ZHealthPort,
      /** Default `/`. */
      path: z.string().trim().max(MAX_HEALTH_PATH_LENGTH).optional(),
    }),
    z.object({ type: z.literal("tcp"), port: ZHealthPort }),
  ],
  { error: "must be exec, http or tcp" },
);

function healthTestOf(test: z.output<typeof ZHealthTestInput>): THealthCheckTest {
  if (test.type === "exec")
    return {
      type: "exec",
      command: typeof test.command === "string" ? ["sh", "-c", test.command] : test.command,
    };
  if (test.type === "http") return { type: "http", port: test.port, path: test.path || "/" };
  return test;
}

/** The input's names for the protocol's fields, so a problem names what the person typed. */
const HEALTH_INPUT_FIELD_OF: Record<string, string> = {
  intervalMs: "interval",
  timeoutMs: "timeout",
  startPeriodMs: "startPeriod",
};

const ZHealthCheckInput = z
  .object({
    /** What is checked: `{type: "exec", command}`, `{type: "http", port, path}` or `{type: "tcp", port}`. */
    test: ZHealthTestInput,
    /** Between checks; default 30s. */
    interval: ZHealthDuration(100).optional(),
    /** For one check to answer; default 30s. */
    timeout: ZHealthDuration(100).optional(),
    /** Failures in a row that make it unhealthy; default 3. */
    retries: z
      .int({ error: "must be a whole number from 1 to 100" })
      .min(1, { error: "must be a whole number from 1 to 100" })
      .max(100, { error: "must be a whole number from 1 to 100" })
      .optional(),
    /** Failures in this time after a start do not count; default 0s. */
    startPeriod: ZHealthDuration(0).optional(),
    /** Restart the container (with its restart policy's backoff) when it turns unhealthy. */
    restartOnUnhealthy: z.boolean().optional(),
  })
  .transform((fields, ctx) => {
    const check: THealthCheckInput = {
      test: healthTestOf(fields.test),
      ...(fields.interval !== undefined ? { intervalMs: fields.interval } : {}),
      ...(fields.timeout !== undefined ? { timeoutMs: fields.timeout } : {}),
      ...(fields.retries !== undefined ? { retries: fields.retries } : {}),
      ...(fields.startPeriod !== undefined ? { startPeriodMs: fields.startPeriod } : {}),
      ...(fields.restartOnUnhealthy !== undefined ? { restartOnUnhealthy: fields.restartOnUnhealthy } : {}),
    };
    // The protocol's schema has the last word (a path with a space, a NUL in a command).
    const result = ZHealthCheck.safeParse(check);
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      const [first, ...rest] = issue.path;
      const path =
        typeof first === "string" && HEALTH_INPUT_FIELD_OF[first]
          ? [HEALTH_INPUT_FIELD_OF[first]!, ...rest]
          : [...issue.path];
      ctx.addIssue({ code: "custom", message: issue.message, path });
    }
    return z.NEVER;
  });

export const ZPlacementStrategyInput = z.enum(["binpack", "spread"]);

/** The fields that describe a container, shared by container.run, container.plan and deployment.create. */
export const containerSpecFields = {
  image: z.string().trim().pipe(ZImageRef),
  /** Omitted or empty: the image's default command. */
  command: ZCommandInput.optional(),
  env: ZEnvInput.optional(),
  ports: z.array(ZPortInput).max(MAX_PORT_MAPPINGS).optional(),
  /** CPU limit: cores (`"0.5"`, `2`) or millicores (`"500m"`). */
  cpus: ZCpus.optional(),
  /** Memory limit: `"64m"`, `"1g"` or bytes. */
  memory: ZBytes.optional(),
  /** Process limit. */
  pids: ZPids.optional(),
  /** What the scheduler reserves; defaults to the limit. */
  cpuRequest: ZCpus.optional(),
  memoryRequest: ZBytes.optional(),
  pidsRequest: ZPids.optional(),
  /** `no` (default), `always`, `on-failure` or `on-failure:<max retries>`. */
  restart: z.string().trim().max(32).transform(parsed(parseRestartPolicy)).optional(),
  labels: ZLabelsInput.optional(),
  /** Named volumes and bind mounts in `docker run -v` form. */
  volumes: z.array(ZVolumeInput).max(MAX_MOUNTS).optional(),
  /** tmpfs mounts in `docker run --tmpfs` form. */
  tmpfs: z.array(ZTmpfsInput).max(MAX_MOUNTS).optional(),
  /** User-defined networks on the host to join (created there when missing). */
  networks: z.array(z.string().trim().pipe(ZNetworkName)).max(MAX_NETWORKS).optional(),
  /** Omitted or null: none. */
  healthCheck: ZHealthCheckInput.nullish(),
  strategy: ZPlacementStrategyInput.default("binpack"),
  /** Label selector the host must match, e.g. `zone=a,disk!=hdd`. */
  constraints: z.string().trim().pipe(ZLabelSelector).default(""),
};

type TSpecFieldsOutput = z.output<z.ZodObject<typeof containerSpecFields>>;

/** Where a template field came from in the input, so a problem names what the person typed. */
const INPUT_FIELD_OF: Record<string, string> = {
  cpuLimitMillis: "cpus",
  memoryLimitBytes: "memory",
  pidsLimit: "pids",
  cpuRequestMillis: "cpuRequest",
  memoryRequestBytes: "memoryRequest",
  pidsRequest: "pidsRequest",
  restartPolicy: "restart",
};

function inputPathOf(path: PropertyKey[], volumeCount: number): PropertyKey[] {
  const [first, second, ...rest] = path;
  if (first === "resources" && typeof second === "string") return [INPUT_FIELD_OF[second] ?? second, ...rest];
  // The template's mounts are the `volumes` entries followed by the `tmpfs` ones.
  if (first === "mounts") {
    if (typeof second !== "number") return ["volumes", ...(second === undefined ? [] : [second]), ...rest];
    return second < volumeCount ? ["volumes", second, ...rest] : ["tmpfs", second - volumeCount, ...rest];
  }
  if (typeof first === "string" && INPUT_FIELD_OF[first])
    return [INPUT_FIELD_OF[first]!, ...(second === undefined ? [] : [second]), ...rest];
  return path;
}

/** The parsed fields → a template, every remaining rule of the agent's spec checked; issues go to `ctx`. */
export function templateFromFields(
  fields: TSpecFieldsOutput,
  ctx: z.core.$RefinementCtx<unknown>,
): TContainerTemplate | null {
  const resources = resourcesWithDefaultRequests({
    cpuLimitMillis: fields.cpus ?? null,
    memoryLimitBytes: fields.memory ?? null,
    pidsLimit: fields.pids ?? null,
    cpuRequestMillis: fields.cpuRequest,
    memoryRequestBytes: fields.memoryRequest,
    pidsRequest: fields.pidsRequest,
  });
  const template: TContainerTemplate = {
    image: fields.image,
    command: fields.command && fields.command.length > 0 ? fields.command : null,
    env: fields.env ?? {},
    ports: fields.ports ?? [],
    labels: fields.labels ?? {},
    resources,
    restartPolicy: fields.restart ?? { name: "no" },
    mounts: [...(fields.volumes ?? []), ...(fields.tmpfs ?? [])],
    networks: fields.networks ?? [],
    healthCheck: fields.healthCheck ?? null,
  };
  const problems = templateProblems(template);
  for (const problem of problems) {
    const message = problem.message
      .replace(
        /cpuRequestMillis must not exceed cpuLimitMillis/,
        "the cpu request must not exceed the cpus limit",
      )
      .replace(
        /memoryRequestBytes must not exceed memoryLimitBytes/,
        "the memory request must not exceed the memory limit",
      )
      .replace(/pidsRequest must not exceed pidsLimit/, "the pids request must not exceed the pids limit");
    ctx.addIssue({ code: "custom", message, path: inputPathOf(problem.path, fields.volumes?.length ?? 0) });
  }
  return problems.length > 0 ? null : template;
}

/** container.run and container.plan: one container's description, its name, where it may go. */
export const ZRunContainerInput = z
  .object({
    /** Generated docker-style (`brave_turing`) when omitted. */
    name: z
      .string()
      .trim()
      .max(128)
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/, {
        error: "must be 2-128 letters, digits, '_', '.' or '-', starting with a letter or digit",
      })
      .optional(),
    ...containerSpecFields,
  })
  .transform((fields, ctx) => {
    const template = templateFromFields(fields, ctx);
    if (!template) return z.NEVER;
    return {
      name: fields.name,
      template,
      strategy: fields.strategy,
      constraints: fields.constraints,
    };
  });
