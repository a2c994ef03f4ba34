// The event bus across central replicas: what one replica publishes on a
// bridged topic is published on every other replica's bus too, so event
// streams, rollout watchers, access checks and the gateway's `host.removed`
// work whichever replica a client or an agent reached. The carrier is
// Postgres NOTIFY on `fleet_bus` (db/pg-notify.ts): each payload names the
// replica it came from, a replica skips its own, and one received is published
// on the local bus only, never sent on.
//
// `metrics.live` stays local: it is large and frequent, and every replica
// builds its own from the sample rows.
//
// An `event` row too large for a notification travels as its id and the
// receiver reads the row. Anything received is checked (anyone who can reach
// the database can NOTIFY); what does not pass is logged and dropped, and a
// `host.removed`, which disconnects an agent for good, is believed only when
// the host row says it was removed.
import { EVENT_SEVERITIES } from "@fleet/shared/domain/event";
import type { Logger } from "pino";
import { z } from "zod";
import type { PrismaClient } from "../db/client";
import { MAX_NOTIFY_PAYLOAD_BYTES, type PgNotifier } from "../db/pg-notify";
import type { BusTopics, EventBus, TBusTopic } from "./event-bus";
import { eventViewSelect, parseEventId, type TEventRow, toEventView } from "./event-view";

export const BUS_CHANNEL = "fleet_bus";

const ZId = z.string().min(1).max(200);
const ZEventWire = z.object({
  id: z.string().regex(/^\d{1,19}$/),
  ts: z.iso.datetime(),
  kind: z.string().min(1).max(200),
  severity: z.enum(EVENT_SEVERITIES),
  hostId: ZId.nullable(),
  containerId: ZId.nullable(),
  deploymentId: ZId.nullable(),
  message: z.string().max(MAX_NOTIFY_PAYLOAD_BYTES),
  data: z.json(),
});

/** Every bridged topic and the shape its payload must have on arrival. */
const BRIDGED = {
  event: ZEventWire,
  "host.changed": z.object({ hostId: ZId }),
  "container.changed": z.object({ containerId: ZId, hostId: ZId.nullable() }),
  "rollout.changed": z.object({ deploymentId: ZId, rolloutId: ZId }),
  "rollout.started": z.object({ deploymentId: ZId, rolloutId: ZId }),
  "access.changed": z.object({ userId: ZId, apiTokenId: ZId.optional(), sessionId: ZId.optional() }),
  "host.removed": z.object({ hostId: ZId }),
} satisfies Partial<Record<TBusTopic, z.ZodType>>;
type TBridgedTopic = keyof typeof BRIDGED;

const ZEnvelope = z.union([
  z.object({
    o: ZId,
    t: z.enum(Object.keys(BRIDGED) as [TBridgedTopic, ...TBridgedTopic[]]),
    p: z.unknown(),
  }),
  /** An event row too large to carry: its id. */
  z.object({ o: ZId, t: z.literal("event"), ref: z.string().regex(/^\d{1,19}$/) }),
]);

function isBridged(topic: TBusTopic): topic is TBridgedTopic {
  return Object.hasOwn(BRIDGED, topic);
}

function eventToWire(row: TEventRow): z.input<typeof ZEventWire> {
  const view = toEventView(row);
  return { ...view, ts: view.ts.toISOString(), data: view.data as z.input<typeof ZEventWire>["data"] };
}

function eventFromWire(wire: z.output<typeof ZEventWire>): TEventRow {
  return { ...wire, id: BigInt(wire.id), ts: new Date(wire.ts), data: wire.data as TEventRow["data"] };
}

export interface BridgedEventBus extends EventBus {
  /** Stops listening (the wrapped bus keeps working locally). */
  close(): void;
}

export interface BusBridgeOptions {
  /** The process's own bus: local subscribers, and where received payloads are published. */
  bus: EventBus;
  notifier: Pick<PgNotifier, "enabled" | "listen" | "notify">;
  replicaId: string;
  /** Reads an event row that came as its id. */
  db: PrismaClient;
  log: Pick<Logger, "debug" | "warn" | "error">;
}

/** `bus` with bridged topics also published on the other replicas. */
export function bridgeEventBus(options: BusBridgeOptions): BridgedEventBus {
  const { bus, notifier, replicaId, db, log } = options;

  function send(topic: TBridgedTopic, payload: unknown): void {
    const body = topic === "event" ? eventToWire(payload as TEventRow) : payload;
    let text = JSON.stringify({ o: replicaId, t: topic, p: body });
    if (Buffer.byteLength(text, "utf8") > MAX_NOTIFY_PAYLOAD_BYTES && topic === "event") {
      text = JSON.stringify({ o: replicaId, t: topic, ref: (payload as TEventRow).id.toString() });
    }
    try {
      void notifier.notify(BUS_CHANNEL, text);
    } catch (error) {
      log.error({ err: error, topic }, "a bus message was not sent to the other replicas");
    }
  }

  function publishLocally<K extends TBridgedTopic>(topic: K, payload: unknown): void {
    bus.publish(topic, payload as BusTopics[K]);
  }

  function receive(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      log.warn({ bytes: text.length }, "a bus notification that is not JSON was dropped");
      return;
    }
    const envelope = ZEnvelope.safeParse(value);
    if (!envelope.success) {
      log.warn({ bytes: text.length }, "a malformed bus notification was dropped");
      return;
    }
    const message = envelope.data;
    if (message.o === replicaId) return;
    if ("ref" in message) {
      const id = parseEventId(message.ref);
      if (id === null) return;
      db.event
        .findUnique({ where: { id }, select: eventViewSelect })
        .then((row) => {
          if (row) bus.publish("event", row);
        })
        .catch((error: unknown) =>
          log.warn({ err: error, id: message.ref }, "reading a bridged event failed"),
        );
      return;
    }
    const payload = BRIDGED[message.t].safeParse(message.p);
    if (!payload.success) {
      log.warn(
        { topic: message.t, from: message.o },
        "a bus notification with a malformed payload was dropped",
      );
      return;
    }
    if (message.t === "event") {
      publishLocally("event", eventFromWire(payload.data as z.output<typeof ZEventWire>));
      return;
    }
    if (message.t === "host.removed") {
      // It disconnects the host's agent for good: believed only when the row says so.
      const { hostId } = payload.data as BusTopics["host.removed"];
      db.host
        .findUnique({ where: { id: hostId }, select: { removedAt: true } })
        .then((host) => {
          if (!host || host.removedAt !== null) bus.publish("host.removed", { hostId });
          else log.warn({ hostId, from: message.o }, "a host.removed for a host not removed was dropped");
        })
        .catch((error: unknown) =>
          log.warn({ err: error, hostId }, "checking a bridged host.removed failed"),
        );
      return;
    }
    publishLocally(message.t, payload.data);
  }

  const unlisten = notifier.enabled ? notifier.listen(BUS_CHANNEL, receive) : () => {};

  return {
    publish(topic, payload) {
      bus.publish(topic, payload);
      if (notifier.enabled && isBridged(topic)) send(topic, payload);
    },
    subscribe: (topic, handler) => bus.subscribe(topic, handler),
    stream: (topic, signal, streamOptions) => bus.stream(topic, signal, streamOptions),
    subscriberCount: (topic) => bus.subscriberCount(topic),
    close() {
      unlisten();
    },
  };
}
