// Prometheus exposition at /metrics, from its own registry (never prom-client's
// global default, which a second copy of this module or a library could also
// fill). Values are collected when scraped: host and container counts from the
// database, allocated figures from the host rows, used figures from the
// metrics service's latest samples, ingest counters from its stats.
//
// May import: prom-client, the Prisma client type, the metrics service.
import type { IncomingMessage, ServerResponse } from "node:http";
import { ZContainerState } from "@fleet/shared/domain/container-state";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { PrismaClient } from "./db/client";
import type { Logger } from "./logger";
import type { MetricsService } from "./services/metrics/metrics-service";

const HOST_STATUSES = ["online", "offline"] as const;
const CONTAINER_STATES = ZContainerState.options;

export interface PrometheusExporter {
  registry: Registry;
  /** The exposition text, freshly collected. */
  collect(): Promise<string>;
  /** `GET /metrics`. */
  handler(req: IncomingMessage, res: ServerResponse): void;
}

export interface PrometheusExporterOptions {
  db: PrismaClient;
  metrics: Pick<MetricsService, "fleetSummary" | "stats">;
  log?: Pick<Logger, "error">;
  /** Node process metrics (CPU, memory, event loop lag) as `fleet_central_process_…`; default on. */
  processMetrics?: boolean;
}

export function createPrometheusExporter(options: PrometheusExporterOptions): PrometheusExporter {
  const { db, metrics } = options;
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: "fleet_central_" });

  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Gauge<L>({ name, help, labelNames, registers: [registry] });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });

  const hosts = gauge("fleet_hosts", "Hosts that are not removed, by connectivity.", ["status"]);
  const containers = gauge("fleet_containers", "Containers that are not removed, by observed state.", [
    "state",
  ]);
  const hostLabels = ["host", "host_id"] as const;
  const cpuAllocatable = gauge(
    "fleet_host_cpu_allocatable_millicores",
    "CPU the scheduler may hand out on the host.",
    hostLabels,
  );
  const cpuAllocated = gauge(
    "fleet_host_cpu_allocated_millicores",
    "Sum of the CPU requests of the containers placed on the host.",
    hostLabels,
  );
  const cpuUsed = gauge(
    "fleet_host_cpu_used_cores",
    "CPU used by the host's containers, from their latest samples.",
    hostLabels,
  );
  const memoryAllocatable = gauge(
    "fleet_host_memory_allocatable_bytes",
    "Memory the scheduler may hand out on the host.",
    hostLabels,
  );
  const memoryAllocated = gauge(
    "fleet_host_memory_allocated_bytes",
    "Sum of the memory requests of the containers placed on the host.",
    hostLabels,
  );
  const memoryUsed = gauge(
    "fleet_host_memory_used_bytes",
    "Memory working set of the host's containers, from their latest samples.",
    hostLabels,
  );
  const hostContainers = gauge(
    "fleet_host_containers",
    "Containers placed on the host and not removed.",
    hostLabels,
  );
  const samplesIngested = counter(
    "fleet_metrics_samples_ingested_total",
    "Samples accepted from agents and queued for writing.",
    ["kind"],
  );
  const samplesDropped = counter(
    "fleet_metrics_samples_dropped_total",
    "Samples lost: dropped by agent spools, the full write queue, failed writes, or refused (another host's container, directory unavailable).",
    ["reason"],
  );
  const samplesWritten = counter(
    "fleet_metrics_samples_written_total",
    "Samples whose INSERT succeeded (resent duplicates included).",
    [],
  );
  const duplicateBatches = counter(
    "fleet_metrics_duplicate_batches_total",
    "Metrics batches ignored because their id was seen before.",
    [],
  );
  const queuedRows = gauge("fleet_metrics_write_queue_rows", "Samples waiting to be written.", []);

  function setCounter<L extends string>(
    metric: Counter<L>,
    value: number,
    labels?: Partial<Record<L, string>>,
  ) {
    metric.reset();
    if (labels) metric.inc(labels, value);
    else metric.inc(value);
  }

  async function refresh(): Promise<void> {
    const [summary, hostCounts, containerCounts] = await Promise.all([
      metrics.fleetSummary(),
      db.host.groupBy({ by: ["status"], where: { removedAt: null }, _count: { _all: true } }),
      db.container.groupBy({ by: ["actualState"], where: { removedAt: null }, _count: { _all: true } }),
    ]);
    for (const status of HOST_STATUSES) {
      hosts.set({ status }, hostCounts.find((row) => row.status === status)?._count._all ?? 0);
    }
    for (const state of CONTAINER_STATES) {
      containers.set({ state }, containerCounts.find((row) => row.actualState === state)?._count._all ?? 0);
    }
    // Hosts removed since the last scrape must disappear, not keep their last value.
    for (const metric of [
      cpuAllocatable,
      cpuAllocated,
      cpuUsed,
      memoryAllocatable,
      memoryAllocated,
      memoryUsed,
      hostContainers,
    ]) {
      metric.reset();
    }
    for (const host of summary.hosts) {
      const labels = { host: host.name, host_id: host.hostId };
      cpuAllocatable.set(labels, host.cpuAllocatableMillis);
      cpuAllocated.set(labels, host.cpuAllocatedMillis);
      cpuUsed.set(labels, host.cpuUsedCores);
      memoryAllocatable.set(labels, host.memoryAllocatableBytes);
      memoryAllocated.set(labels, host.memoryAllocatedBytes);
      memoryUsed.set(labels, host.memoryUsedBytes);
      hostContainers.set(labels, host.containers);
    }

    const stats = metrics.stats();
    samplesIngested.reset();
    samplesIngested.inc({ kind: "container" }, stats.containerSamplesAccepted);
    samplesIngested.inc({ kind: "host" }, stats.hostSamplesAccepted);
    samplesDropped.reset();
    samplesDropped.inc({ reason: "agent_spool" }, stats.agentDroppedSamples);
    samplesDropped.inc({ reason: "queue_full" }, stats.queue.droppedRows);
    samplesDropped.inc({ reason: "write_failed" }, stats.queue.failedRows);
    samplesDropped.inc({ reason: "foreign_container" }, stats.foreignSamplesIgnored);
    samplesDropped.inc({ reason: "unverified" }, stats.unverifiedSamplesDropped);
    setCounter(samplesWritten, stats.queue.writtenRows);
    setCounter(duplicateBatches, stats.duplicateBatches);
    queuedRows.set(stats.queue.queuedRows);
  }

  // Concurrent scrapes share one collection.
  let collecting: Promise<string> | null = null;
  const collect = (): Promise<string> => {
    collecting ??= refresh()
      .then(() => registry.metrics())
      .finally(() => {
        collecting = null;
      });
    return collecting;
  };

  return {
    registry,
    collect,
    handler(req, res) {
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD" }).end();
        return;
      }
      collect().then(
        (text) => {
          res.writeHead(200, { "content-type": registry.contentType });
          res.end(req.method === "HEAD" ? undefined : text);
        },
        (error: unknown) => {
          options.log?.error({ err: error }, "prometheus: collecting metrics failed");
          res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
          res.end("# collecting metrics failed: the central's log has the details\n");
        },
      );
    },
  };
}
