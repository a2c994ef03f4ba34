/**
 * The ContainerDriver for the Docker Engine API, serving Docker and Podman
 * (its Docker-compatible API) alike. Where the engines differ the helpers
 * beside this file absorb it (event names, log framing, name-conflict status
 * codes, bind mount reporting); see README.md for the list. Every failure
 * leaves as an EngineError carrying the engine's own message, never dockerode's.
 */
import type { IncomingMessage } from "node:http";
import { posix } from "node:path";
import { type TContainerSpec, volumeNamesOf } from "@fleet/shared/domain/container-spec";
import type Docker from "dockerode";
import { assertCanonicalBindSource } from "../bind-sources";
import type {
  ContainerDriver,
  DriverEvent,
  DriverFingerprint,
  ExecOptions,
  ExecResult,
  ExitResult,
  LogLine,
  LogOptions,
  ManagedContainer,
  StartOptions,
} from "../container-driver";
import { FLEET_LABELS } from "../driver";
import { execInContainer } from "./container-exec";
import { buildCreateOptions, extraNetworks } from "./create-options";
import { dialStream, repoDigestsOf } from "./engine-client";
import { EngineError, isNameConflict, statusCodeOf, toEngineError } from "./engine-error";
import { type EngineName, fingerprintFrom, ZEngineInfo, ZEngineVersion } from "./engine-info";
import { publishedPortsOf } from "./engine-objects";
import { mapEngineEvent } from "./event-mapping";
import type { EngineHostObjectStore } from "./host-object-store";
import { registryDigestOf } from "./image-ref";
import { JsonObjectSplitter } from "./json-stream";
import { DEFAULT_MAX_LINE_BYTES, LogStreamDecoder } from "./log-decoder";
import { followAfterTail } from "./log-follow";

export interface EngineContainerOptions {
  /** When set, recover() and events() only see containers labelled with this host id. */
  hostId?: string;
  /** Parent cgroup for every container this driver creates (one per simulated host in tests). */
  cgroupParent?: string;
  /** Log lines longer than this are cut and marked truncated. */
  maxLogLineBytes?: number;
}

/** Engines report "never" as Go's zero time. */
const ZERO_TIME_PREFIX = "0001-01-01";
/** Image ids whose RepoDigests are remembered; a host rarely runs more distinct images. */
const DIGEST_CACHE_SIZE = 512;

export class EngineContainerDriver implements ContainerDriver {
  /** RepoDigests per image id, so reporting a container's digest does not inspect its image every time. */
  private readonly repoDigestsById = new Map<string, readonly string[]>();

  constructor(
    private readonly docker: Docker,
    private readonly engine: EngineName,
    /** Where start() creates the volumes and networks a spec names. */
    private readonly hostObjects: EngineHostObjectStore,
    private readonly opts: EngineContainerOptions = {},
  ) {}

  async fingerprint(): Promise<DriverFingerprint> {
    try {
      const [version, info] = await Promise.all([this.docker.version(), this.docker.info()]);
      return fingerprintFrom(ZEngineVersion.parse(version), ZEngineInfo.parse(info));
    } catch (err) {
      throw toEngineError(err, "fingerprint");
    }
  }

  async recover(): Promise<ManagedContainer[]> {
    const label = [`${FLEET_LABELS.managed}=true`];
    if (this.opts.hostId !== undefined) label.push(`${FLEET_LABELS.hostId}=${this.opts.hostId}`);
    let summaries: Docker.ContainerInfo[];
    try {
      summaries = await this.docker.listContainers({ all: true, filters: { label } });
    } catch (err) {
      throw toEngineError(err, "list managed containers");
    }
    const inspected = await Promise.all(summaries.map((summary) => this.inspectRaw(summary.Id)));
    // null: removed between list and inspect, nothing to adopt.
    const ours = inspected.filter(
      (info): info is Docker.ContainerInspectInfo => info !== null && this.isOurs(info),
    );
    return Promise.all(ours.map((info) => this.toManaged(info)));
  }

  async start(opts: StartOptions): Promise<ManagedContainer> {
    const { spec } = opts;
    const create = buildCreateOptions(spec, {
      hostId: opts.hostId,
      specHash: opts.specHash,
      ...(this.opts.cgroupParent ? { cgroupParent: this.opts.cgroupParent } : {}),
    });
    const action = `create ${spec.name}`;
    for (const name of volumeNamesOf(spec.mounts)) await this.hostObjects.ensure("volume", name, action);
    for (const name of spec.networks) await this.hostObjects.ensure("network", name, action);
    const container = await this.createReplacingLeftover(create, spec);
    try {
      for (const network of extraNetworks(spec)) {
        await this.docker.getNetwork(network).connect({ Container: container.id });
      }
      // Last, so as little time as possible passes between the check and the engine's mount.
      await this.assertCreatedBindSources(container.id, spec);
      await container.start();
    } catch (err) {
      if (statusCodeOf(err) !== 304) {
        // A container that never ran is of no use to anyone; leave nothing behind.
        await container.remove({ force: true, v: true }).catch(() => undefined);
        throw toEngineError(err, `start ${spec.name}`);
      }
    }
    const info = await this.inspectRaw(container.id);
    if (!info)
      throw new EngineError("not-found", `start ${spec.name} failed: the container vanished after start`);
    return this.toManaged(info);
  }

  async inspect(engineId: string): Promise<ManagedContainer | null> {
    const info = await this.inspectRaw(engineId);
    return info ? this.toManaged(info) : null;
  }

  async wait(engineId: string, signal?: AbortSignal): Promise<ExitResult> {
    let result: { StatusCode?: number };
    try {
      result = await this.docker
        .getContainer(engineId)
        .wait({ condition: "not-running", ...(signal ? { abortSignal: signal } : {}) });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw toEngineError(err, `wait ${shortId(engineId)}`);
    }
    // The wait answer has no OOM flag; the engine's state does (Docker only: Podman 4 always says false).
    const info = await this.inspectRaw(engineId);
    return {
      exitCode: result.StatusCode ?? info?.State.ExitCode ?? -1,
      oomKilled: info?.State.OOMKilled ?? false,
      finishedAt: parseEngineTime(info?.State.FinishedAt) ?? new Date(),
    };
  }

  async stop(engineId: string, timeoutSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(engineId).stop({ t: timeoutSeconds });
    } catch (err) {
      if (statusCodeOf(err) === 304) return; // already stopped
      throw toEngineError(err, `stop ${shortId(engineId)}`);
    }
  }

  async restart(engineId: string): Promise<ManagedContainer> {
    const before = await this.inspectRaw(engineId);
    if (!before) throw new EngineError("not-found", `restart ${shortId(engineId)} failed: no such container`);
    // The engine walks each bind source path again at every start; one swapped for a symlink since create must not be followed.
    for (const mount of before.Mounts ?? []) {
      if (mount.Type === "bind") await assertCanonicalBindSource(mount.Source);
    }
    try {
      await this.docker.getContainer(engineId).start();
    } catch (err) {
      if (statusCodeOf(err) !== 304) throw toEngineError(err, `restart ${shortId(engineId)}`);
    }
    const info = await this.inspectRaw(engineId);
    if (!info) throw new EngineError("not-found", `restart ${shortId(engineId)} failed: no such container`);
    return this.toManaged(info);
  }

  async destroy(engineId: string): Promise<void> {
    try {
      await this.docker.getContainer(engineId).remove({ force: true, v: true });
    } catch (err) {
      const status = statusCodeOf(err);
      if (status === 404) return;
      // Docker: "removal of container … is already in progress"; the container is going either way.
      if (status === 409 && /already in progress/i.test(String(err))) return;
      throw toEngineError(err, `destroy ${shortId(engineId)}`);
    }
  }

  events(signal: AbortSignal): AsyncIterable<DriverEvent> {
    const label = [`${FLEET_LABELS.managed}=true`];
    if (this.opts.hostId !== undefined) label.push(`${FLEET_LABELS.hostId}=${this.opts.hostId}`);
    // Connect now, not at the first next(), so events between this call and the loop are not lost.
    const connecting = dialStream(
      this.docker,
      { path: "/events?", method: "GET", options: { filters: { type: ["container"], label } } },
      "watch engine events",
      { code: "engine" },
      signal,
    );
    connecting.catch(() => undefined);
    const filter = this.opts.hostId === undefined ? {} : { hostId: this.opts.hostId };
    return (async function* () {
      let stream: IncomingMessage;
      try {
        stream = await connecting;
      } catch (err) {
        if (signal.aborted) return;
        throw err;
      }
      const splitter = new JsonObjectSplitter();
      try {
        for await (const chunk of stream) {
          for (const raw of splitter.push(chunk as Buffer)) {
            // The label filter is applied again here: it is what makes an event Fleet's.
            const event = mapEngineEvent(raw, filter);
            if (event) yield event;
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        throw toEngineError(err, "watch engine events", { code: "unavailable" });
      } finally {
        stream.destroy();
      }
      if (!signal.aborted) {
        throw new EngineError(
          "unavailable",
          "watch engine events failed: the engine closed the event stream",
        );
      }
    })();
  }

  logs(engineId: string, opts: LogOptions, signal?: AbortSignal): AsyncIterable<LogLine> {
    const self = this;
    return (async function* () {
      const info = await self.inspectRaw(engineId);
      if (!info) throw new EngineError("not-found", `logs ${shortId(engineId)} failed: no such container`);
      // A TTY container's log is one raw stream; timestamps are only asked for when frames can carry them.
      const multiplexed = !info.Config.Tty;
      const read = (o: LogOptions) => self.readLogs(engineId, multiplexed, o, signal);
      // Podman loses the lines written between a tail and its follow; log-follow.ts closes that gap.
      if (self.engine === "podman" && opts.follow && opts.tail >= 0 && multiplexed) {
        yield* followAfterTail(read, opts, Date.now());
      } else yield* read(opts);
    })();
  }

  exec(engineId: string, opts: ExecOptions, signal?: AbortSignal): Promise<ExecResult> {
    return execInContainer(this.docker, engineId, opts, signal);
  }

  // ---- internals ----------------------------------------------------------

  private async *readLogs(
    engineId: string,
    multiplexed: boolean,
    opts: LogOptions,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<LogLine> {
    const query: Record<string, string | boolean> = {
      follow: opts.follow,
      stdout: opts.stdout,
      stderr: opts.stderr,
      timestamps: multiplexed,
      tail: opts.tail < 0 ? "all" : String(opts.tail),
    };
    if (opts.since !== undefined) query.since = toUnixSeconds(opts.since);
    let stream: IncomingMessage;
    try {
      stream = await dialStream(
        this.docker,
        { path: `/containers/${engineId}/logs?`, method: "GET", options: query },
        `logs ${shortId(engineId)}`,
        { code: "engine" },
        signal,
      );
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
    const decoder = new LogStreamDecoder({
      multiplexed,
      timestamps: multiplexed,
      maxLineBytes: this.opts.maxLogLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    });
    try {
      for await (const chunk of stream) yield* decoder.push(chunk as Buffer);
      yield* decoder.end();
    } catch (err) {
      if (signal?.aborted) return;
      throw toEngineError(err, `logs ${shortId(engineId)}`);
    } finally {
      stream.destroy();
    }
  }

  private async toManaged(info: Docker.ContainerInspectInfo): Promise<ManagedContainer> {
    const repoDigests = await this.repoDigestsOfId(info.Image);
    return toManaged(info, registryDigestOf(repoDigests, info.Config.Image));
  }

  /** RepoDigests of an image id, remembered; an image that is gone has none. */
  private async repoDigestsOfId(imageId: string): Promise<readonly string[]> {
    const cached = this.repoDigestsById.get(imageId);
    if (cached) return cached;
    const digests = (await repoDigestsOf(this.docker, imageId)) ?? [];
    if (this.repoDigestsById.size >= DIGEST_CACHE_SIZE) this.repoDigestsById.clear();
    this.repoDigestsById.set(imageId, digests);
    return digests;
  }

  private async inspectRaw(idOrName: string): Promise<Docker.ContainerInspectInfo | null> {
    try {
      return await this.docker.getContainer(idOrName).inspect();
    } catch (err) {
      if (statusCodeOf(err) === 404) return null;
      throw toEngineError(err, `inspect ${shortId(idOrName)}`);
    }
  }

  /**
   * Before the first start: the engine holds exactly the spec's bind mounts,
   * each with the source it was given (the real path the agent resolved), and
   * each source is still its own real path. The caller removes the container
   * when this throws, so it never starts.
   */
  private async assertCreatedBindSources(engineId: string, spec: TContainerSpec): Promise<void> {
    const binds = spec.mounts.filter((mount) => mount.type === "bind");
    const info = await this.inspectRaw(engineId);
    const reported = (info?.Mounts ?? []).filter((mount) => mount.Type === "bind");
    for (const mount of reported) {
      const expected = binds.find((bind) => cleanTarget(bind.target) === mount.Destination);
      if (!expected || expected.source !== mount.Source) {
        throw new EngineError(
          "bind-mount-refused",
          `bind mount of ${mount.Source} at ${mount.Destination} refused: the engine holds it, but ${
            expected ? `the checked source is ${expected.source}` : "the spec has no bind mount there"
          }`,
        );
      }
    }
    for (const bind of binds) {
      if (!reported.some((mount) => mount.Destination === cleanTarget(bind.target))) {
        throw new EngineError(
          "bind-mount-refused",
          `bind mount of ${bind.source} at ${bind.target} refused: the engine does not report it after create`,
        );
      }
      await assertCanonicalBindSource(bind.source);
    }
  }

  private isOurs(info: Docker.ContainerInspectInfo): boolean {
    const labels = info.Config.Labels ?? {};
    if (labels[FLEET_LABELS.managed] !== "true") return false;
    return this.opts.hostId === undefined || labels[FLEET_LABELS.hostId] === this.opts.hostId;
  }

  /**
   * Creates the container; if its name is taken by a stopped copy of the same
   * Fleet container (a leftover of an earlier attempt), that copy is removed and
   * the create retried. Any other holder of the name is reported, not touched.
   */
  private async createReplacingLeftover(
    create: Docker.ContainerCreateOptions,
    spec: TContainerSpec,
  ): Promise<Docker.Container> {
    const action = `create ${spec.name}`;
    let leftoverId: string;
    try {
      return await this.docker.createContainer(create);
    } catch (err) {
      if (!isNameConflict(err)) throw toEngineError(err, action, { notFound: "image-not-found" });
      const holder = await this.inspectRaw(spec.name);
      if (!holder) throw toEngineError(err, action);
      const labels = holder.Config.Labels ?? {};
      const sameFleetContainer =
        labels[FLEET_LABELS.managed] === "true" && labels[FLEET_LABELS.containerId] === spec.id;
      if (!sameFleetContainer || holder.State.Running) {
        const owner =
          labels[FLEET_LABELS.managed] === "true"
            ? `Fleet container ${labels[FLEET_LABELS.containerId]}`
            : "not managed by Fleet";
        throw new EngineError(
          "name-conflict",
          `${action} failed: the name is already in use by container ${shortId(holder.Id)} (${holder.State.Status}, ${owner})`,
          { statusCode: 409 },
        );
      }
      leftoverId = holder.Id;
    }
    await this.destroy(leftoverId);
    try {
      return await this.docker.createContainer(create);
    } catch (err) {
      throw toEngineError(err, action, { notFound: "image-not-found" });
    }
  }
}

/** A mount target as both engines report it: `//`, `.` and a trailing `/` folded away. */
function cleanTarget(target: string): string {
  const normalized = posix.normalize(target);
  return normalized.length > 1 ? normalized.replace(/\/+$/, "") : normalized;
}

function toManaged(info: Docker.ContainerInspectInfo, imageDigest: string | null): ManagedContainer {
  const labels = info.Config.Labels ?? {};
  const running = info.State.Running;
  const neverRan = info.State.Status === "created";
  return {
    engineId: info.Id,
    containerId: labels[FLEET_LABELS.containerId] ?? "",
    hostId: labels[FLEET_LABELS.hostId] ?? "",
    specHash: labels[FLEET_LABELS.specHash] ?? "",
    name: labels[FLEET_LABELS.name] ?? info.Name.replace(/^\//, ""),
    running,
    pid: running && info.State.Pid > 0 ? info.State.Pid : null,
    startedAt: parseEngineTime(info.State.StartedAt),
    finishedAt: running ? null : parseEngineTime(info.State.FinishedAt),
    exitCode: running || neverRan ? null : info.State.ExitCode,
    oomKilled: info.State.OOMKilled,
    imageId: info.Image,
    image: info.Config.Image,
    labels: { ...labels },
    imageDigest,
    publishedPorts: running ? publishedPortsOf(info.NetworkSettings?.Ports) : [],
  };
}

/** Engine timestamps have nanoseconds and use Go's zero time for "never". */
function parseEngineTime(value: string | undefined): Date | null {
  if (!value || value.startsWith(ZERO_TIME_PREFIX)) return null;
  const ms = Date.parse(value.replace(/(\.\d{3})\d+/, "$1"));
  return Number.isNaN(ms) ? null : new Date(ms);
}

/** The logs endpoint's `since`: Docker only takes Unix seconds, so RFC 3339 is converted. */
function toUnixSeconds(since: string): string {
  if (/^\d+(\.\d+)?$/.test(since)) return since;
  const ms = Date.parse(since);
  if (Number.isNaN(ms)) throw new EngineError("engine", `logs failed: "${since}" is not a time`);
  return (ms / 1000).toFixed(3);
}

function shortId(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id;
}
