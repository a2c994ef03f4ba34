/**
 * The RuntimeDriver for the Docker Engine API, serving Docker and Podman (its
 * Docker-compatible API) alike through one dockerode client on a unix socket.
 *
 * Where the engines differ the helpers beside this file absorb it (event names,
 * progress and push-digest messages, log framing, name-conflict status codes);
 * see README.md for the list. Every failure leaves as an EngineError carrying
 * the engine's own message, never dockerode's.
 *
 * May import: the driver contract, @fleet/shared, dockerode, node built-ins.
 */
import type { IncomingMessage } from "node:http";
import { posix } from "node:path";
import { type TContainerSpec, volumeNamesOf } from "@fleet/shared/domain/container-spec";
import type DockerModem from "docker-modem";
import Docker from "dockerode";
import { assertCanonicalBindSource } from "../bind-sources";
import {
  type DriverErrorCode,
  type DriverEvent,
  type DriverFingerprint,
  type ExitResult,
  FLEET_LABELS,
  type ImageSummary,
  isDriverError,
  type LogLine,
  type LogOptions,
  type ManagedContainer,
  type NetworkSummary,
  type PullProgress,
  type RegistryAuth,
  type RuntimeDriver,
  type StartOptions,
  type VolumeSummary,
} from "../driver";
import { buildCreateOptions, extraNetworks } from "./create-options";
import { EngineError, isNameConflict, statusCodeOf, toEngineError } from "./engine-error";
import { detectEngine, type EngineName, fingerprintFrom, ZEngineInfo, ZEngineVersion } from "./engine-info";
import {
  type EngineDfVolume,
  type EngineNetwork,
  type EngineVolume,
  publishedPortsOf,
  toNetworkSummary,
  toVolumeSummaries,
} from "./engine-objects";
import { mapEngineEvent } from "./event-mapping";
import { chooseRepoDigest, registryDigestOf, toEngineImageRef } from "./image-ref";
import { JsonObjectSplitter } from "./json-stream";
import { DEFAULT_MAX_LINE_BYTES, LogStreamDecoder } from "./log-decoder";
import {
  BuildOutputLines,
  builtImageId,
  parseProgressMessage,
  progressError,
  pulledDigest,
  pushedDigest,
  type TProgressMessage,
  toPullProgress,
} from "./progress-message";

export interface EngineDriverOptions {
  /** Path of the engine's unix socket (see engine-discovery.ts). */
  socketPath: string;
  /** When set, recover() and events() only see containers labelled with this host id. */
  hostId?: string;
  /** Parent cgroup for every container this driver creates (one per simulated host in tests). */
  cgroupParent?: string;
  /** Log lines longer than this are cut and marked truncated. */
  maxLogLineBytes?: number;
}

type ProgressOptions = { auth?: RegistryAuth; onProgress?: (p: PullProgress) => void; signal?: AbortSignal };

/** Engines report "never" as Go's zero time. */
const ZERO_TIME_PREFIX = "0001-01-01";
/** Base64 of "{}": Docker refuses a push without an X-Registry-Auth header, even an empty one. */
const EMPTY_REGISTRY_AUTH = "e30=";
/** Image ids whose RepoDigests are remembered; a host rarely runs more distinct images. */
const DIGEST_CACHE_SIZE = 512;

export class EngineDriver implements RuntimeDriver {
  readonly name: EngineName;
  private readonly docker: Docker;
  private readonly opts: EngineDriverOptions;
  /** RepoDigests per image id, so reporting a container's digest does not inspect its image every time. */
  private readonly repoDigestsById = new Map<string, readonly string[]>();
  /** Network creation per name, so two containers joining a new network at once do not create it twice. */
  private readonly networkCreations = new Map<string, Promise<void>>();

  /** Asks the engine which one it is (Docker or Podman) and returns a driver for it. */
  static async connect(opts: EngineDriverOptions): Promise<EngineDriver> {
    const docker = new Docker({ socketPath: opts.socketPath });
    let version: unknown;
    try {
      version = await docker.version();
    } catch (err) {
      throw toEngineError(err, `connect to the engine at ${opts.socketPath}`);
    }
    return new EngineDriver(opts, detectEngine(ZEngineVersion.parse(version)));
  }

  constructor(opts: EngineDriverOptions, engine: EngineName) {
    this.opts = opts;
    this.name = engine;
    this.docker = new Docker({ socketPath: opts.socketPath });
  }

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

  async imageExists(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch (err) {
      if (statusCodeOf(err) === 404) return false;
      throw toEngineError(err, `inspect image ${image}`);
    }
  }

  async pullImage(image: string, opts: ProgressOptions = {}): Promise<{ digest: string | null }> {
    const action = `pull ${image}`;
    const ref = toEngineImageRef(image, action, "pull-failed");
    const before = await this.repoDigests(image);
    const stream = await this.dialStream(
      {
        path: "/images/create?",
        method: "POST",
        options: { fromImage: ref.repository, tag: ref.version },
        ...this.authOptions(opts.auth, ref.registry, false),
      },
      action,
      // Docker answers a missing image with 404 before the stream; that is a failed pull, not a missing container.
      { code: "pull-failed", notFound: "pull-failed" },
      opts.signal,
    );
    let digest: string | null = null;
    await this.consumeProgress(stream, action, "pull-failed", opts.signal, (msg) => {
      digest = pulledDigest(msg) ?? digest;
      const progress = toPullProgress(msg);
      if (progress) opts.onProgress?.(progress);
    });
    if (ref.digest) return { digest: ref.digest };
    return { digest: digest ?? chooseRepoDigest((await this.repoDigests(image)) ?? [], before ?? [], ref) };
  }

  async listImages(): Promise<ImageSummary[]> {
    try {
      const images = await this.docker.listImages();
      return images.map((img) => ({
        id: img.Id,
        // Podman reports untagged images with null lists; Docker with ["<none>:<none>"].
        tags: (img.RepoTags ?? []).filter((t) => t !== "<none>:<none>"),
        digests: (img.RepoDigests ?? []).filter((d) => !d.startsWith("<none>")),
        sizeBytes: img.Size,
        createdAt: new Date(img.Created * 1000).toISOString(),
      }));
    } catch (err) {
      throw toEngineError(err, "list images");
    }
  }

  async removeImage(image: string, opts: { force?: boolean } = {}): Promise<void> {
    try {
      await this.docker.getImage(image).remove({ force: opts.force ?? false });
    } catch (err) {
      throw toEngineError(err, `remove image ${image}`, { notFound: "image-not-found" });
    }
  }

  async buildImage(
    context: NodeJS.ReadableStream | Buffer,
    opts: { tag: string; dockerfile?: string; onOutput?: (line: string) => void; signal?: AbortSignal },
  ): Promise<{ imageId: string }> {
    const action = `build ${opts.tag}`;
    const stream = await this.dialStream(
      {
        path: "/build?",
        method: "POST",
        options: { t: opts.tag, dockerfile: opts.dockerfile ?? "Dockerfile", rm: true, forcerm: true },
        file: context,
        headers: { "Content-Type": "application/x-tar" },
      },
      action,
      { code: "build-failed" },
      opts.signal,
    );
    const lines = new BuildOutputLines();
    let imageId: string | null = null;
    await this.consumeProgress(stream, action, "build-failed", opts.signal, (msg) => {
      imageId = builtImageId(msg) ?? imageId;
      for (const line of lines.push(msg)) opts.onOutput?.(line);
    });
    for (const line of lines.end()) opts.onOutput?.(line);
    if (imageId) return { imageId };
    try {
      const info = await this.docker.getImage(opts.tag).inspect();
      return { imageId: info.Id };
    } catch (err) {
      throw toEngineError(err, action, { code: "build-failed" });
    }
  }

  async pushImage(image: string, opts: ProgressOptions = {}): Promise<{ digest: string | null }> {
    const action = `push ${image}`;
    const ref = toEngineImageRef(image, action, "push-failed");
    const stream = await this.dialStream(
      {
        path: `/images/${ref.repository}/push?`,
        method: "POST",
        options: { tag: ref.tag ?? "latest" },
        ...this.authOptions(opts.auth, ref.registry, true),
      },
      action,
      { code: "push-failed", notFound: "image-not-found" },
      opts.signal,
    );
    let digest: string | null = null;
    await this.consumeProgress(stream, action, "push-failed", opts.signal, (msg) => {
      digest = pushedDigest(msg) ?? digest;
      const progress = toPullProgress(msg);
      if (progress) opts.onProgress?.(progress);
    });
    return { digest };
  }

  async start(opts: StartOptions): Promise<ManagedContainer> {
    const { spec } = opts;
    const create = buildCreateOptions(spec, {
      hostId: opts.hostId,
      specHash: opts.specHash,
      ...(this.opts.cgroupParent ? { cgroupParent: this.opts.cgroupParent } : {}),
    });
    await this.ensureVolumes(spec);
    await this.ensureNetworks(spec);
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
    const connecting = this.dialStream(
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
        stream = await self.dialStream(
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
        maxLineBytes: self.opts.maxLogLineBytes ?? DEFAULT_MAX_LINE_BYTES,
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
    })();
  }

  async createVolume(name: string): Promise<VolumeSummary> {
    try {
      // The engines return an existing volume of that name as it is.
      await this.docker.createVolume({ Name: name, Labels: { [FLEET_LABELS.managed]: "true" } });
    } catch (err) {
      throw toEngineError(err, `create volume ${name}`);
    }
    const volume = (await this.listVolumes()).find((v) => v.name === name);
    if (!volume) throw new EngineError("not-found", `create volume ${name} failed: the volume vanished`);
    return volume;
  }

  async listVolumes(): Promise<VolumeSummary[]> {
    try {
      // Sizes only come from df; Podman's df lacks Driver and CreatedAt, which the list has.
      const [listed, usage] = await Promise.all([this.docker.listVolumes(), this.docker.df()]);
      return toVolumeSummaries(
        (listed.Volumes ?? []) as EngineVolume[],
        ((usage as { Volumes?: EngineDfVolume[] | null }).Volumes ?? []) as EngineDfVolume[],
      );
    } catch (err) {
      throw toEngineError(err, "list volumes");
    }
  }

  async removeVolume(name: string): Promise<void> {
    try {
      await this.docker.getVolume(name).remove();
    } catch (err) {
      // Both engines answer 409 while a container (running or not) uses it.
      throw toEngineError(err, `remove volume ${name}`);
    }
  }

  async createNetwork(opts: { name: string; internal: boolean }): Promise<NetworkSummary> {
    const action = `create network ${opts.name}`;
    try {
      await this.docker.createNetwork({
        Name: opts.name,
        Driver: "bridge",
        CheckDuplicate: true,
        Internal: opts.internal,
        Labels: { [FLEET_LABELS.managed]: "true" },
      });
    } catch (err) {
      throw toEngineError(err, action, { code: conflictOnDuplicate(err) });
    }
    const network = await this.inspectNetwork(opts.name, action);
    if (!network) throw new EngineError("not-found", `${action} failed: the network vanished`);
    return network;
  }

  async listNetworks(): Promise<NetworkSummary[]> {
    try {
      return ((await this.docker.listNetworks()) as EngineNetwork[]).map(toNetworkSummary);
    } catch (err) {
      throw toEngineError(err, "list networks");
    }
  }

  async removeNetwork(name: string): Promise<void> {
    try {
      await this.docker.getNetwork(name).remove();
    } catch (err) {
      const status = statusCodeOf(err);
      // Docker answers 403 "has active endpoints" for a network in use, Podman 409 or 500 "in use".
      const inUse =
        status === 409 ||
        ((status === 403 || status === 500) && /active endpoints|in use|being used/i.test(String(err)));
      throw toEngineError(err, `remove network ${name}`, inUse ? { code: "conflict" } : {});
    }
  }

  // ---- internals ----------------------------------------------------------

  /** Named volumes the spec mounts; creating an existing one is a no-op on both engines. */
  private async ensureVolumes(spec: TContainerSpec): Promise<void> {
    for (const name of volumeNamesOf(spec.mounts)) {
      try {
        await this.docker.createVolume({ Name: name, Labels: { [FLEET_LABELS.managed]: "true" } });
      } catch (err) {
        throw toEngineError(err, `create ${spec.name}: create volume ${name}`);
      }
    }
  }

  /** Networks the spec joins that do not exist yet are created as plain bridges. */
  private async ensureNetworks(spec: TContainerSpec): Promise<void> {
    for (const name of spec.networks) {
      let creating = this.networkCreations.get(name);
      if (!creating) {
        creating = this.createNetworkIfMissing(name, `create ${spec.name}`).finally(() => {
          this.networkCreations.delete(name);
        });
        this.networkCreations.set(name, creating);
      }
      await creating;
    }
  }

  private async createNetworkIfMissing(name: string, action: string): Promise<void> {
    if (await this.inspectNetwork(name, action)) return;
    try {
      await this.createNetwork({ name, internal: false });
    } catch (err) {
      // Someone else (another agent on this engine, a person) created it meanwhile: that is fine.
      if (isDriverError(err, "conflict") && (await this.inspectNetwork(name, action))) return;
      throw err instanceof EngineError ? new EngineError(err.code, `${action}: ${err.message}`) : err;
    }
  }

  private async inspectNetwork(name: string, action: string): Promise<NetworkSummary | null> {
    try {
      return toNetworkSummary((await this.docker.getNetwork(name).inspect()) as EngineNetwork);
    } catch (err) {
      if (statusCodeOf(err) === 404) return null;
      throw toEngineError(err, `${action}: inspect network ${name}`);
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
    const digests = (await this.repoDigests(imageId)) ?? [];
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

  private authOptions(
    auth: RegistryAuth | undefined,
    registry: string | null,
    headerRequired: boolean,
  ): Pick<DockerModem.DialOptions, "authconfig" | "headers"> {
    if (auth) {
      return {
        authconfig: {
          username: auth.username,
          password: auth.password,
          serveraddress: registry ?? "docker.io",
        },
      };
    }
    return headerRequired ? { headers: { "X-Registry-Auth": EMPTY_REGISTRY_AUTH } } : {};
  }

  /** Opens a streaming request; HTTP errors before the stream are wrapped with `code`. */
  private dialStream(
    dial: Omit<DockerModem.DialOptions, "isStream" | "statusCodes" | "abortSignal">,
    action: string,
    codes: { code: DriverErrorCode; notFound?: DriverErrorCode },
    signal: AbortSignal | undefined,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      this.docker.modem.dial(
        {
          ...dial,
          isStream: true,
          statusCodes: { 200: true },
          ...(signal ? { abortSignal: signal } : {}),
        },
        (err, result) => {
          if (signal?.aborted) return reject(signal.reason);
          if (err) return reject(toEngineError(err, action, codes));
          const stream = result as IncomingMessage;
          if (signal) {
            // The request's own signal stops at the response headers; the body must stop on abort too.
            const onAbort = () => stream.destroy();
            signal.addEventListener("abort", onAbort, { once: true });
            stream.once("close", () => signal.removeEventListener("abort", onAbort));
          }
          resolve(stream);
        },
      );
    });
  }

  /** Reads a progress stream to its end; an error message inside it rejects (HTTP status was 200). */
  private async consumeProgress(
    stream: IncomingMessage,
    action: string,
    code: DriverErrorCode,
    signal: AbortSignal | undefined,
    onMessage: (msg: TProgressMessage) => void,
  ): Promise<void> {
    const splitter = new JsonObjectSplitter();
    try {
      for await (const chunk of stream) {
        for (const raw of splitter.push(chunk as Buffer)) {
          const msg = parseProgressMessage(raw);
          const error = progressError(msg);
          if (error !== null) throw new EngineError(code, `${action} failed: ${error}`);
          onMessage(msg);
        }
      }
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw toEngineError(err, action, { code });
    } finally {
      stream.destroy();
    }
    if (signal?.aborted) throw signal.reason;
  }

  /** RepoDigests of a local image, or null when there is no such image. */
  private async repoDigests(image: string): Promise<string[] | null> {
    try {
      return (await this.docker.getImage(image).inspect()).RepoDigests ?? [];
    } catch (err) {
      if (statusCodeOf(err) === 404) return null;
      throw toEngineError(err, `inspect image ${image}`);
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

/** Docker answers a duplicate network name with 409, Podman with 409 or 500 "already exists". */
function conflictOnDuplicate(err: unknown): DriverErrorCode {
  const status = statusCodeOf(err);
  return status === 409 || /already (exists|used)/i.test(String(err)) ? "conflict" : "engine";
}

/** Engine timestamps have nanoseconds and use Go's zero time for "never". */
export function parseEngineTime(value: string | undefined): Date | null {
  if (!value || value.startsWith(ZERO_TIME_PREFIX)) return null;
  const ms = Date.parse(value.replace(/(\.\d{3})\d+/, "$1"));
  return Number.isNaN(ms) ? null : new Date(ms);
}

/** The logs endpoint's `since`: Docker only takes Unix seconds, so RFC 3339 is converted. */
export function toUnixSeconds(since: string): string {
  if (/^\d+(\.\d+)?$/.test(since)) return since;
  const ms = Date.parse(since);
  if (Number.isNaN(ms)) throw new EngineError("engine", `logs failed: "${since}" is not a time`);
  return (ms / 1000).toFixed(3);
}

function shortId(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id;
}
