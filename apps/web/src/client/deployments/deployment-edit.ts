// The edit form of a deployment: its fields start from the current revision
// (as the person would type them), and only what the person changed goes to
// deployment.update, so a field left alone can never move (a resource request
// that follows its limit, a health check written as an argv). Environment
// values never reach the browser: variables are set and removed, as
// `docker service update --env-add/--env-rm` does. The policy's part of the
// diff is computed here; the spec's comes from the API's dry run, which words
// it exactly as the revision will.
import { formatPortMapping, type THealthCheck } from "@fleet/shared/domain/container-spec";
import { familiarImageRef, parseImageRef } from "@fleet/shared/image-ref";
import { formatBytes, formatCpus, formatDuration, parseDuration } from "@fleet/shared/units";
import type { RouterInputs, RouterOutputs } from "../api-types";
import { HEALTH_FIELDS, healthCheckInputOf, type THealthFieldValues } from "../run/health-check";
import { envLines, portList, splitCommandLine } from "../run/run-request";

export type TDeploymentView = RouterOutputs["deployment"]["get"]["deployment"];
export type TUpdatePolicy = TDeploymentView["updatePolicy"];
export type TUpdateInput = RouterInputs["deployment"]["update"];
/** What the form decides: everything but which deployment and whether it is a dry run. */
export type TUpdateChanges = Omit<TUpdateInput, "id" | "dryRun">;

export interface TDeploymentEditValues extends THealthFieldValues {
  image: string;
  command: string;
  cpus: string;
  memory: string;
  pids: string;
  ports: string;
  /** `KEY=value` lines to set (new or replaced). */
  envSet: string;
  /** Current variables to drop. */
  envRemove: string[];
  maxParallel: string;
  minHealthyTime: string;
  healthyDeadline: string;
  progressDeadline: string;
  autoRevert: boolean;
  canary: string;
  order: TUpdatePolicy["order"];
}

const SAFE_WORD = /^[\w@%+=:,./-]+$/;

/** An argv as one line that `splitCommandLine` reads back to the same words. */
export function commandLineOf(argv: readonly string[]): string {
  return argv.map((word) => (SAFE_WORD.test(word) ? word : `'${word.replaceAll("'", `'"'"'`)}'`)).join(" ");
}

function healthValuesOf(check: THealthCheck | null): THealthFieldValues {
  const timing = {
    healthInterval: check ? formatDuration(check.intervalMs) : "",
    healthTimeout: check ? formatDuration(check.timeoutMs) : "",
    healthRetries: check ? String(check.retries) : "",
    healthStartPeriod: check ? formatDuration(check.startPeriodMs) : "",
    healthRestart: check?.restartOnUnhealthy ?? false,
  };
  const none = { healthCommand: "", healthPort: "", healthPath: "" };
  if (!check) return { healthType: "none", ...none, ...timing };
  const { test } = check;
  if (test.type === "exec") {
    // `--health-cmd X` is stored as `sh -c X`; the form's field is that X.
    const [shell, flag, line, ...rest] = test.command;
    const shellLine = shell === "sh" && flag === "-c" && line !== undefined && rest.length === 0;
    return {
      healthType: "exec",
      ...none,
      healthCommand: shellLine ? line : commandLineOf(test.command),
      ...timing,
    };
  }
  if (test.type === "http") {
    return { healthType: "http", ...none, healthPort: String(test.port), healthPath: test.path, ...timing };
  }
  return { healthType: "tcp", ...none, healthPort: String(test.port), ...timing };
}

/** The form as it opens: the current revision and policy in the words a person types. */
export function editValuesOf(deployment: TDeploymentView): TDeploymentEditValues {
  const { resources, updatePolicy: policy } = deployment;
  return {
    // As people write it: the pinned digest is the central's business, and a tag typed again is pulled again.
    image: familiarImageRef({ ...parseImageRef(deployment.image), digest: null }),
    command: commandLineOf(deployment.command ?? []),
    cpus: resources.cpuLimitMillis === null ? "" : formatCpus(resources.cpuLimitMillis),
    memory: resources.memoryLimitBytes === null ? "" : formatBytes(resources.memoryLimitBytes),
    pids: resources.pidsLimit === null ? "" : String(resources.pidsLimit),
    ports: deployment.ports.map(formatPortMapping).join(", "),
    envSet: "",
    envRemove: [],
    ...healthValuesOf(deployment.healthCheck),
    maxParallel: String(policy.maxParallel),
    minHealthyTime: formatDuration(policy.minHealthyTimeMs),
    healthyDeadline: formatDuration(policy.healthyDeadlineMs),
    progressDeadline: formatDuration(policy.progressDeadlineMs),
    autoRevert: policy.autoRevert,
    canary: String(policy.canary),
    order: policy.order,
  };
}

export type TEditRequest =
  | { ok: true; changes: TUpdateChanges; policyDiff: string[]; empty: boolean }
  | { ok: false; field: keyof TDeploymentEditValues; message: string };

type TProblem = Extract<TEditRequest, { ok: false }>;

function problem(field: keyof TDeploymentEditValues, message: string): TProblem {
  return { ok: false, field, message };
}

function wholeNumber(text: string): number | null {
  return /^\d+$/.test(text.trim()) ? Number(text.trim()) : null;
}

const POLICY_LABELS: Record<keyof TUpdatePolicy, string> = {
  maxParallel: "max parallel",
  minHealthyTimeMs: "min healthy time",
  healthyDeadlineMs: "healthy deadline",
  progressDeadlineMs: "progress deadline",
  autoRevert: "auto-revert",
  canary: "canary",
  order: "order",
};

function policyText(key: keyof TUpdatePolicy, value: TUpdatePolicy[keyof TUpdatePolicy]): string {
  if (typeof value === "boolean") return value ? "on" : "off";
  if (key.endsWith("Ms") && typeof value === "number") return formatDuration(value);
  return String(value);
}

/** e.g. `["max parallel 1 → 2", "auto-revert off → on"]`: one entry per knob that changes. */
export function policyDiff(before: TUpdatePolicy, changes: Partial<TUpdatePolicy>): string[] {
  return (Object.keys(POLICY_LABELS) as (keyof TUpdatePolicy)[]).flatMap((key) => {
    const next = changes[key];
    if (next === undefined || next === before[key]) return [];
    return [`${POLICY_LABELS[key]} ${policyText(key, before[key])} → ${policyText(key, next)}`];
  });
}

function policyOf(
  values: TDeploymentEditValues,
  current: TUpdatePolicy,
): { ok: true; policy: Partial<TUpdatePolicy> } | TProblem {
  const policy: Partial<TUpdatePolicy> = {};
  const maxParallel = wholeNumber(values.maxParallel);
  if (maxParallel === null || maxParallel < 1)
    return problem("maxParallel", "Max parallel: must be a whole number, 1 or more");
  if (maxParallel !== current.maxParallel) policy.maxParallel = maxParallel;
  const canary = wholeNumber(values.canary);
  if (canary === null) return problem("canary", "Canary: must be a whole number, 0 for none");
  if (canary !== current.canary) policy.canary = canary;
  const durations = [
    ["minHealthyTime", "minHealthyTimeMs", "Min healthy time"],
    ["healthyDeadline", "healthyDeadlineMs", "Healthy deadline"],
    ["progressDeadline", "progressDeadlineMs", "Progress deadline"],
  ] as const;
  for (const [field, key, label] of durations) {
    let ms: number;
    try {
      ms = parseDuration(values[field]);
    } catch (error) {
      return problem(field, `${label}: ${(error as Error).message}`);
    }
    if (ms !== current[key]) policy[key] = ms;
  }
  if (values.autoRevert !== current.autoRevert) policy.autoRevert = values.autoRevert;
  if (values.order !== current.order) policy.order = values.order;
  return { ok: true, policy };
}

/**
 * What deployment.update is asked for: the fields that differ from `initial`
 * (the form as it opened), or the first problem the API cannot word for the
 * form. `empty` when nothing would change.
 */
export function editRequestOf(
  initial: TDeploymentEditValues,
  values: TDeploymentEditValues,
  currentPolicy: TUpdatePolicy,
): TEditRequest {
  const changes: TUpdateChanges = {};
  const edited = (field: keyof TDeploymentEditValues) => values[field] !== initial[field];

  const image = values.image.trim();
  if (image === "") return problem("image", "Image: enter an image, e.g. busybox:latest");
  if (image !== initial.image.trim()) changes.image = image;

  if (edited("command")) {
    try {
      changes.command = splitCommandLine(values.command);
    } catch (error) {
      return problem("command", `Command: ${(error as Error).message}`);
    }
  }

  // The API can set a limit but not take one away; an empty field would otherwise look like "unchanged".
  const limits = [
    ["cpus", "CPUs"],
    ["memory", "Memory"],
  ] as const;
  for (const [field, label] of limits) {
    if (!edited(field)) continue;
    const text = values[field].trim();
    if (text === "") return problem(field, `${label}: a limit cannot be removed by an update; enter one`);
    changes[field] = text;
  }
  if (edited("pids")) {
    const pids = wholeNumber(values.pids);
    if (pids === null)
      return problem(
        "pids",
        values.pids.trim() === ""
          ? "Pids: a limit cannot be removed by an update; enter one"
          : "Pids: must be a whole number",
      );
    changes.pids = pids;
  }

  if (edited("ports")) changes.ports = portList(values.ports);

  const envAdd = envLines(values.envSet);
  if (envAdd.length > 0) {
    const malformed = envAdd.find((line) => line.indexOf("=") < 1);
    if (malformed !== undefined) return problem("envSet", `Set variables: "${malformed}" must be KEY=value`);
    changes.envAdd = envAdd;
  }
  if (values.envRemove.length > 0) changes.envRemove = [...values.envRemove];

  if (HEALTH_FIELDS.some(edited)) {
    const health = healthCheckInputOf(values);
    if (!health.ok) return health;
    // An update replaces the check whole, so the flag is said either way rather than left to the default.
    changes.healthCheck = health.check && { ...health.check, restartOnUnhealthy: values.healthRestart };
  }

  const policy = policyOf(values, currentPolicy);
  if (!policy.ok) return policy;
  if (Object.keys(policy.policy).length > 0) changes.policy = policy.policy;

  return {
    ok: true,
    changes,
    policyDiff: policyDiff(currentPolicy, policy.policy),
    empty: Object.keys(changes).length === 0,
  };
}
