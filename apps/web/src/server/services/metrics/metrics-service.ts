// The metrics service: what the gateway hands every `metrics` frame to, what
// routers and /metrics read from, and the background upkeep of the sample
// tables (partitions, rollups, retention). One instance per process, built by
// the composition root (central.ts) and started/stopped by the app server.

import { type Clock, systemClock, type TimerHandle } from "@fleet/shared/clock";
import type { TMetricsFrame } from "@fleet/shared/protocol/agent-to-server";
import { isConnectionError } from "../../db/db-health";
import type { LatestContainerSample, LatestHostSample } from "../../events/event-bus";
import { HostContainerDirectory } from "./host-container-directory";
import { type LatestFilter, LatestSamples } from "./latest-samples";
import { LivePublisher } from "./live-publisher";
import { type MetricsServiceOptions, type MetricsTuning, resolveTuning } from "./metrics-options";
import { ensureSamplePartitions } from "./partitions";
import {
  type ContainerMetricsPoint,
  type MetricsSeries,
  metricsForContainer,
} from "./query-container-metrics";
import { createFleetMetricsReader, type FleetMetricsPoint } from "./query-fleet-metrics";
import { type FleetSummary, fleetSummary, fleetSummaryEachSecond } from "./query-fleet-summary";
import { type HostMetricsPoint, metricsForHost } from "./query-host-metrics";
import { RemoteLatest } from "./remote-latest";
import { applyRetention, type RetentionReport } from "./retention";
import { type RollupRunReport, type RollupWatermarks, SampleRollups } from "./rollups";
import type { EncodedSamples } from "./sample-rows";
import { createSampleWriter } from "./sample-writer";
import { WriteQueue, type WriteQueueStats } from "./write-queue";

export interface IngestResult {
  /** Container and host samples queued for writing. */
  accepted: number;
  /** Container samples naming containers that are not this host's. */
  ignored: number;
  /** The batch id was seen from this host before: nothing was queued. */
  duplicateBatch: boolean;
}

export interface MetricsIngestStats {
  frames: number;
  duplicateBatches: number;
  containerSamplesAccepted: number;
  hostSamplesAccepted: number;
  /** Samples for containers of another host (or unknown ones). */
  foreignSamplesIgnored: number;
  /** Samples dropped because the container directory could not be read (database down). */
  unverifiedSamplesDropped: number;
  /** What agents reported their spools had to drop, summed over hosts. */
  agentDroppedSamples: number;
  queue: WriteQueueStats;
}

export interface MaintenanceReport {
  createdPartitions: string[];
  retention: RetentionReport;
  prunedLatest: number;
}

export interface MetricsService {
  /** Validated frame from an authenticated host. Never rejects; waits only when the write queue is full. */
  ingest(hostId: string, frame: TMetricsFrame): Promise<IngestResult>;
  /** Writes everything queued so far. */
  flush(): Promise<void>;
  /**
   * Ingest, on every replica: partitions for today−1 … today+2 (idempotent,
   * so every replica's start makes sure the current ones exist before it
   * writes), rollup watermarks, the write queue.
   */
  start(): Promise<void>;
  /**
   * The upkeep, a duty run by one replica under the duty lease: rollups,
   * retention and partitions on their timers, from watermarks read afresh
   * (another replica may have rolled meanwhile).
   */
  startMaintenance(): Promise<void>;
  /** Stops the upkeep timers and waits for a job in progress. */
  stopMaintenance(): Promise<void>;
  /** Stops the upkeep and writes what is queued. */
  stop(): Promise<void>;

  latestContainer(containerId: string): LatestContainerSample | undefined;
  latestHost(hostId: string): LatestHostSample | undefined;
  /** Fresh latest samples (not older than the staleness limit), optionally for one host or container. */
  latestSnapshot(filter?: LatestFilter): { containers: LatestContainerSample[]; hosts: LatestHostSample[] };
  /** The `seq` of the newest `"metrics.live"` message. */
  liveSeq(): number;
  /** Samples the agent's spool reported dropped, for one host or all. */
  droppedSamples(hostId?: string): number;
  stats(): MetricsIngestStats;

  metricsForContainer(input: {
    containerId: string;
    from: number;
    to: number;
  }): Promise<MetricsSeries<ContainerMetricsPoint>>;
  metricsForHost(input: {
    hostId: string;
    from: number;
    to: number;
  }): Promise<MetricsSeries<HostMetricsPoint>>;
  fleetMetrics(input: { from: number; to: number }): Promise<MetricsSeries<FleetMetricsPoint>>;
  fleetSummary(): Promise<FleetSummary>;

  /** What the background jobs run, callable directly (tests, an admin action). */
  ensurePartitions(): Promise<string[]>;
  rollup(): Promise<RollupRunReport>;
  runMaintenance(): Promise<MaintenanceReport>;
  rollupWatermarks(): RollupWatermarks;
  readonly tuning: MetricsTuning;
}

// Recent batch ids remembered per host; an agent resends at most its spool.
const RECENT_BATCHES_PER_HOST = 256;
// Latest samples this old are forgotten (their containers are gone).
const LATEST_FORGET_AFTER_MS = 60 * 60_000;
// stop() writes what is queued, but waits no longer than this for a database that is away.
const STOP_FLUSH_LIMIT_MS = 10_000;

const NONE: ReadonlySet<string> = new Set();

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export function createMetricsService(options: MetricsServiceOptions): MetricsService {
  const { db, env, bus } = options;
  const log = options.log;
  const clock: Clock = options.clock ?? systemClock;
  const tuning = resolveTuning(env, options.tuning);

  const latest = new LatestSamples();
  const directory = new HostContainerDirectory({ db, clock });
  const rollups = new SampleRollups({
    db,
    clock,
    log,
    graceMs: env.FLEET_METRICS_INTERVAL + 10_000,
    initialLookbackMs: env.FLEET_RETENTION_RAW + 24 * 60 * 60_000,
  });
  const live = new LivePublisher({
    latest,
    intervalMs: tuning.livePublishIntervalMs,
    now: () => clock.now(),
    publish: (message) => bus?.publish("metrics.live", message),
  });
  // Hosts held by other replicas: their newest rows feed `latest` too.
  const remoteLatest = options.remoteLatest
    ? new RemoteLatest({
        db,
        latest,
        replicaId: options.remoteLatest.replicaId,
        localHostIds: options.remoteLatest.localHostIds,
        intervalMs: tuning.livePublishIntervalMs,
        metricsIntervalMs: env.FLEET_METRICS_INTERVAL,
        firstWindowMs: tuning.latestStaleAfterMs,
        now: () => clock.now(),
        changed: () => live.notify(),
        log,
      })
    : null;

  // COPY on connections of its own, one per concurrent batch of the queue.
  const writer = createSampleWriter({
    db,
    connections: tuning.writeConcurrency,
    onIdleError: (error) => log.warn({ err: error }, "metrics: an idle sample-writing connection broke"),
  });
  // The queue holds each frame's samples encoded for COPY, counted by their rows.
  const queue = new WriteQueue<EncodedSamples>({
    weight: (entry) => entry.rows,
    flushIntervalMs: tuning.flushIntervalMs,
    flushRows: tuning.flushRows,
    maxRowsPerInsert: tuning.maxRowsPerInsert,
    concurrency: tuning.writeConcurrency,
    highWaterRows: tuning.highWaterRows,
    maxQueuedRows: tuning.maxQueuedRows,
    async write(batch) {
      const inserted = await writer.write(batch);
      for (const entry of batch) {
        for (const ts of entry.times) rollups.noteWritten(entry.kind, entry.hostId, ts);
      }
      return inserted;
    },
    // Through a database outage what was received waits (bounded by maxQueuedRows) rather than being dropped.
    keepRetrying: (error, failingForMs) => isConnectionError(error) && failingForMs < tuning.outageHoldMs,
    onError(error, { rows, attempt, dropped }) {
      // Once per batch while it is held through an outage, not at every retry.
      if (attempt > 1 && !dropped && isConnectionError(error)) return;
      log.error({ err: error, rows, attempt, dropped }, "metrics: writing samples failed");
    },
  });

  const recentBatches = new Map<string, Set<string>>();
  const agentDropped = new Map<string, number>();
  const counters = {
    frames: 0,
    duplicateBatches: 0,
    containerSamplesAccepted: 0,
    hostSamplesAccepted: 0,
    foreignSamplesIgnored: 0,
    unverifiedSamplesDropped: 0,
  };

  function seenBefore(hostId: string, batchId: string): boolean {
    let batches = recentBatches.get(hostId);
    if (!batches) {
      batches = new Set();
      recentBatches.set(hostId, batches);
    }
    if (batches.has(batchId)) return true;
    batches.add(batchId);
    // A Set iterates in insertion order: the first entry is the oldest.
    if (batches.size > RECENT_BATCHES_PER_HOST) batches.delete(batches.values().next().value as string);
    return false;
  }

  /** The host's containers (a set holding those among `ids`), waiting (up to outageHoldMs) while the database is unreachable. */
  async function containersThroughOutage(hostId: string, ids: string[]): Promise<ReadonlySet<string>> {
    const startedAt = performance.now();
    for (let delay = 250; ; delay = Math.min(delay * 2, 2000)) {
      try {
        return await directory.containersOf(hostId, ids);
      } catch (error) {
        const waited = performance.now() - startedAt;
        if (!isConnectionError(error) || waited + delay > tuning.outageHoldMs) throw error;
        await sleep(delay);
      }
    }
  }

  async function ingest(hostId: string, frame: TMetricsFrame): Promise<IngestResult> {
    counters.frames++;
    if (frame.droppedSamples > 0) {
      agentDropped.set(hostId, (agentDropped.get(hostId) ?? 0) + frame.droppedSamples);
    }
    if (seenBefore(hostId, frame.batchId)) {
      counters.duplicateBatches++;
      return { accepted: 0, ignored: 0, duplicateBatch: true };
    }
    let owned: ReadonlySet<string> = NONE;
    if (frame.containers.length > 0) {
      const ids = frame.containers.map((sample) => sample.containerId);
      try {
        owned = directory.cachedContainersOf(hostId, ids) ?? (await containersThroughOutage(hostId, ids));
      } catch (error) {
        counters.unverifiedSamplesDropped += frame.containers.length;
        log.warn(
          { err: error, hostId },
          "metrics: cannot check which containers the host runs; samples dropped",
        );
        frame = { ...frame, containers: [] };
      }
    }
    let ignored = 0;
    for (const sample of frame.containers) {
      if (owned.has(sample.containerId)) latest.recordContainer(hostId, sample);
      else ignored++;
    }
    // Nearly always every sample is the host's: the frame's own array then goes on.
    const kept =
      ignored === 0 ? frame.containers : frame.containers.filter((sample) => owned.has(sample.containerId));
    counters.containerSamplesAccepted += kept.length;
    counters.foreignSamplesIgnored += ignored;
    if (frame.host) {
      latest.recordHost(hostId, frame.host);
      counters.hostSamplesAccepted++;
    }
    const accepted = kept.length + (frame.host ? 1 : 0);
    if (accepted > 0) live.notify();
    await queue.enqueue(writer.encode(hostId, kept, frame.host ?? null));
    return { accepted, ignored, duplicateBatch: false };
  }

  // Background jobs run one at a time: a rollup never races the partition drop.
  let jobChain: Promise<unknown> = Promise.resolve();
  function serial<T>(job: () => Promise<T>): Promise<T> {
    const run = jobChain.then(job, job);
    jobChain = run.catch(() => undefined);
    return run;
  }

  const ensurePartitions = () => serial(() => ensureSamplePartitions(db, clock.now()));
  const rollup = () => serial(() => rollups.run());
  const runMaintenance = () =>
    serial(async (): Promise<MaintenanceReport> => {
      const now = clock.now();
      const createdPartitions = await ensureSamplePartitions(db, now);
      const retention = await applyRetention({ db, env, now });
      const prunedLatest = latest.prune(now - LATEST_FORGET_AFTER_MS);
      return { createdPartitions, retention, prunedLatest };
    });

  const timers = new Set<TimerHandle>();
  const unsubscribers: (() => void)[] = [];
  let started = false;
  let maintaining = false;
  /** Which run of the upkeep is current: a timer of a stopped run does not arm again. */
  let maintenanceRun = 0;

  function every(intervalMs: number, name: string, job: () => Promise<unknown>): void {
    const run = maintenanceRun;
    const arm = () => {
      const handle = clock.setTimeout(() => {
        timers.delete(handle);
        job()
          .catch((error: unknown) => log.error({ err: error }, `metrics: ${name} failed`))
          .finally(() => {
            if (maintenanceRun === run) arm();
          });
      }, intervalMs);
      timers.add(handle);
    };
    arm();
  }

  async function stopMaintenance(): Promise<void> {
    maintaining = false;
    maintenanceRun++;
    for (const handle of timers) clock.clearTimeout(handle);
    timers.clear();
    await jobChain;
  }

  return {
    tuning,
    ingest,
    flush: () => queue.flush(),

    async start() {
      if (started) return;
      const created = await ensurePartitions();
      if (created.length > 0) log.info({ partitions: created }, "metrics: created sample partitions");
      await rollups.init();
      // Not fatal: a connection that cannot be opened now is opened by the first batch.
      await writer
        .connect()
        .catch((error: unknown) =>
          log.warn({ err: error }, "metrics: opening the sample writer's connections failed"),
        );
      started = true;
      queue.start();
      remoteLatest?.start();
      if (bus) {
        unsubscribers.push(
          bus.subscribe("container.changed", ({ hostId }) => directory.invalidate(hostId)),
          bus.subscribe("host.removed", ({ hostId }) => {
            latest.forgetHost(hostId);
            directory.invalidate(hostId);
          }),
        );
      }
    },

    async startMaintenance() {
      if (maintaining) return;
      maintaining = true;
      const run = ++maintenanceRun;
      await serial(async () => {
        const created = await ensureSamplePartitions(db, clock.now());
        if (created.length > 0) log.info({ partitions: created }, "metrics: created sample partitions");
        await rollups.init();
      }).catch((error: unknown) =>
        log.error({ err: error }, "metrics: preparing the upkeep failed; the timers try again"),
      );
      if (maintenanceRun !== run) return;
      every(tuning.rollupIntervalMs, "rollup", rollup);
      every(tuning.maintenanceIntervalMs, "maintenance", runMaintenance);
    },

    stopMaintenance,

    async stop() {
      started = false;
      await stopMaintenance();
      for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
      await remoteLatest?.stop();
      live.stop();
      const flushed = await Promise.race([queue.flush().then(() => true), sleep(STOP_FLUSH_LIMIT_MS)]);
      if (!flushed) log.warn({ queue: queue.stats() }, "metrics: stopped with samples still unwritten");
      queue.stop();
      // A write still hanging on a database that is away must not hold up the stop.
      const closing = writer.close();
      if (flushed) await closing;
      else closing.catch(() => undefined);
      await jobChain;
    },

    latestContainer: (containerId) => latest.container(containerId),
    latestHost: (hostId) => latest.host(hostId),
    latestSnapshot: (filter = {}) => latest.snapshot(filter, clock.now() - tuning.latestStaleAfterMs),
    liveSeq: () => live.lastSeq,
    droppedSamples(hostId) {
      if (hostId !== undefined) return agentDropped.get(hostId) ?? 0;
      let total = 0;
      for (const count of agentDropped.values()) total += count;
      return total;
    },
    stats() {
      let agentDroppedSamples = 0;
      for (const count of agentDropped.values()) agentDroppedSamples += count;
      return { ...counters, agentDroppedSamples, queue: queue.stats() };
    },

    metricsForContainer: (input) => metricsForContainer({ db, ...input }),
    metricsForHost: (input) => metricsForHost({ db, ...input }),
    fleetMetrics: createFleetMetricsReader({ db }),
    fleetSummary: fleetSummaryEachSecond(() =>
      fleetSummary({ db, latest, now: clock.now(), staleAfterMs: tuning.latestStaleAfterMs }),
    ),

    ensurePartitions,
    rollup,
    runMaintenance,
    rollupWatermarks: () => rollups.watermarks(),
  };
}
