// deployment.update's spec fields are the run form's, each optional: what is
// given replaces that part of the current template, the rest stays. The
// merged fields go through the run form's own rules (templateFromFields), so
// an update can never make a template that `deployment.create` would refuse.
import type { TMount } from "@fleet/shared/domain/container-spec";
import type { z } from "zod";
import { AppError } from "../../errors";
import type { TContainerTemplate } from "../../services/placement/container-template";
import { type containerSpecFields, templateFromFields } from "../container/container-spec-input";

type TSpecFieldsOutput = z.output<z.ZodObject<typeof containerSpecFields>>;
export type TSpecChanges = Partial<TSpecFieldsOutput>;

/** The fields this module maps back from a template; any other given field is the run form's newer one. */
const MAPPED = new Set([
  "image",
  "command",
  "env",
  "ports",
  "cpus",
  "memory",
  "pids",
  "cpuRequest",
  "memoryRequest",
  "pidsRequest",
  "restart",
  "labels",
  "volumes",
  "tmpfs",
  "networks",
  "healthCheck",
  "strategy",
  "constraints",
]);

function fieldsOfTemplate(template: TContainerTemplate, changes: TSpecChanges): TSpecFieldsOutput {
  const { resources } = template;
  // A request that equalled its limit was defaulted from it: a new limit moves it along.
  const follows = (request: number, limit: number | null, newLimit: unknown) =>
    newLimit !== undefined && request === (limit ?? 0) ? undefined : request;
  return {
    image: template.image,
    command: template.command ?? [],
    env: template.env,
    ports: template.ports,
    cpus: resources.cpuLimitMillis ?? undefined,
    memory: resources.memoryLimitBytes ?? undefined,
    pids: resources.pidsLimit ?? undefined,
    cpuRequest: follows(resources.cpuRequestMillis, resources.cpuLimitMillis, changes.cpus),
    memoryRequest: follows(resources.memoryRequestBytes, resources.memoryLimitBytes, changes.memory),
    pidsRequest: follows(resources.pidsRequest, resources.pidsLimit, changes.pids),
    restart: template.restartPolicy,
    labels: template.labels,
    volumes: template.mounts.filter((mount: TMount) => mount.type !== "tmpfs"),
    tmpfs: template.mounts.filter((mount: TMount) => mount.type === "tmpfs"),
    networks: template.networks,
    healthCheck: null,
    strategy: "binpack",
    constraints: "",
  } as TSpecFieldsOutput;
}

/** The template with the given fields changed; BAD_REQUEST naming each field the result breaks. */
export function applySpecChanges(
  current: TContainerTemplate,
  changes: TSpecChanges,
  envEdits: { add?: Record<string, string> | undefined; remove?: readonly string[] | undefined } = {},
): TContainerTemplate {
  const given: Record<string, unknown> = Object.fromEntries(
    Object.entries(changes).filter(([, value]) => value !== undefined),
  );
  // Edits apply to the env being set (given or current), as `docker service update --env-add/--env-rm`.
  if (envEdits.add || envEdits.remove) {
    const env = { ...((given.env as Record<string, string> | undefined) ?? current.env), ...envEdits.add };
    for (const key of envEdits.remove ?? []) delete env[key];
    given.env = env;
  }
  const merged = { ...fieldsOfTemplate(current, changes), ...given } as TSpecFieldsOutput;
  const issues: string[] = [];
  const ctx = {
    value: merged,
    addIssue(issue: { message?: string; path?: PropertyKey[] }) {
      const path = (issue.path ?? []).map(String).join(".");
      issues.push(path ? `${path}: ${issue.message}` : (issue.message ?? "invalid"));
    },
  } as unknown as z.core.$RefinementCtx<unknown>;
  const template = templateFromFields(merged, ctx);
  if (!template) throw new AppError("BAD_REQUEST", issues.join("; "));
  // The current check is already parsed, so it is put back rather than parsed again; it changes only
  // when `healthCheck` (null removes it) or a field of the run form this module does not map was given.
  const healthGiven = "healthCheck" in given || Object.keys(given).some((key) => !MAPPED.has(key));
  return {
    ...template,
    healthCheck: healthGiven ? (template.healthCheck ?? null) : (current.healthCheck ?? null),
  };
}
