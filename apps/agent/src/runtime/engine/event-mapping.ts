/**
 * Maps the engine's event JSON to DriverEvents for managed containers.
 *
 * Both engines send Docker's shape (`Type`, `Action`, `Actor.ID`,
 * `Actor.Attributes` holding the container's labels plus `name`/`image`), with
 * differences: Podman 4 calls removal `remove` (Docker: `destroy`), adds
 * `init`/`cleanup` events and a `containerExitCode` attribute on every event,
 * and never sends `oom`. Old Docker clients only set `status`/`id`, so those
 * are the fallbacks.
 */
import { z } from "zod";
import type { DriverEvent } from "../container-driver";
import { FLEET_LABELS } from "../driver";

export const ZEngineEvent = z
  .object({
    Type: z.string().optional(),
    Action: z.string().optional(),
    status: z.string().optional(),
    id: z.string().optional(),
    Actor: z
      .object({
        ID: z.string().optional(),
        Attributes: z.record(z.string(), z.string()).nullish(),
      })
      .loose()
      .optional(),
    time: z.number().optional(),
    timeNano: z.number().optional(),
  })
  .loose();
export type TEngineEvent = z.infer<typeof ZEngineEvent>;

export interface EventFilter {
  /** Only events of containers carrying this host id label (when set). */
  hostId?: string;
}

export function mapEngineEvent(raw: unknown, filter: EventFilter = {}): DriverEvent | null {
  const parsed = ZEngineEvent.safeParse(raw);
  if (!parsed.success) return null;
  const event = parsed.data;
  if ((event.Type ?? "container") !== "container") return null;
  const attributes = event.Actor?.Attributes ?? {};
  if (attributes[FLEET_LABELS.managed] !== "true") return null;
  if (filter.hostId !== undefined && attributes[FLEET_LABELS.hostId] !== filter.hostId) return null;
  const engineId = event.Actor?.ID ?? event.id;
  if (!engineId) return null;
  const containerId = attributes[FLEET_LABELS.containerId] ?? null;
  const ts = eventTime(event);
  switch (event.Action ?? event.status) {
    case "start":
      return { kind: "start", engineId, containerId, ts };
    case "die":
    case "died":
      return { kind: "die", engineId, containerId, exitCode: parseExitCode(attributes.exitCode), ts };
    case "oom":
      return { kind: "oom", engineId, containerId, ts };
    case "destroy":
    case "remove":
      return { kind: "destroy", engineId, containerId, ts };
    default:
      return null;
  }
}

function parseExitCode(value: string | undefined): number | null {
  if (value === undefined || !/^-?\d+$/.test(value)) return null;
  return Number(value);
}

function eventTime(event: TEngineEvent): Date {
  if (event.timeNano !== undefined) return new Date(Math.floor(event.timeNano / 1e6));
  if (event.time !== undefined) return new Date(event.time * 1000);
  return new Date();
}
