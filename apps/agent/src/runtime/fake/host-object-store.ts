/**
 * The fake HostObjectStore, over the in-memory engine (fake-engine.ts): one
 * entry per kind saying where the engine keeps that kind, what a new one
 * looks like, and what the engines answer when one exists or is in use (a
 * volume even by a stopped container, a network by a running one).
 */
import { DriverError, FLEET_LABELS } from "../driver";
import type {
  HostObjectCreate,
  HostObjectKind,
  HostObjectStore,
  HostObjectSummary,
} from "../host-object-store";
import { type FakeEngine, shortHash } from "./fake-engine";

interface FakeObjectKind<K extends HostObjectKind> {
  objects: Map<string, HostObjectSummary<K>>;
  summary(opts: HostObjectCreate<K>): HostObjectSummary<K>;
  /** What a container's start creates when its spec names one that is missing. */
  forContainer(name: string): HostObjectCreate<K>;
  /** What creating one whose name is taken throws; without it the existing one is returned. */
  exists?(name: string): DriverError;
  notFound(name: string): DriverError;
  /** What removing it throws while a container uses it, or null. */
  inUse(name: string): DriverError | null;
}

type FakeObjectKinds = { [K in HostObjectKind]: FakeObjectKind<K> };

export class FakeHostObjectStore implements HostObjectStore {
  private readonly kinds: FakeObjectKinds;

  constructor(private readonly engine: FakeEngine) {
    this.kinds = { volume: volumeKind(engine), network: networkKind(engine) };
  }

  async create<K extends HostObjectKind>(kind: K, opts: HostObjectCreate<K>): Promise<HostObjectSummary<K>> {
    this.engine.serve("create", opts.name, [kind, opts]);
    const k = this.kind(kind);
    const existing = k.objects.get(opts.name);
    if (existing && k.exists) throw k.exists(opts.name);
    const object = existing ?? k.summary(opts);
    k.objects.set(opts.name, object);
    return structuredClone(object);
  }

  async list<K extends HostObjectKind>(kind: K): Promise<Array<HostObjectSummary<K>>> {
    this.engine.serve("list", null, [kind]);
    return [...this.kind(kind).objects.values()].map((o) => structuredClone(o));
  }

  async remove(kind: HostObjectKind, name: string): Promise<void> {
    this.engine.serve("remove", name, [kind, name]);
    const k = this.kind(kind);
    if (!k.objects.has(name)) throw k.notFound(name);
    const inUse = k.inUse(name);
    if (inUse) throw inUse;
    k.objects.delete(name);
  }

  /** For the container driver's start: created unless it exists, and not recorded as a call of its own. */
  ensure(kind: HostObjectKind, name: string): void {
    const k = this.kind(kind);
    if (!k.objects.has(name)) k.objects.set(name, k.summary(k.forContainer(name)));
  }

  private kind<K extends HostObjectKind>(kind: K): FakeObjectKind<K> {
    return this.kinds[kind];
  }
}

function volumeKind(engine: FakeEngine): FakeObjectKind<"volume"> {
  return {
    objects: engine.volumes,
    summary: ({ name }) => ({
      name,
      driver: "local",
      createdAt: engine.now().toISOString(),
      sizeBytes: 0,
      labels: { [FLEET_LABELS.managed]: "true" },
    }),
    forContainer: (name) => ({ name }),
    notFound: (name) =>
      new DriverError("not-found", `remove volume ${name} failed: no such volume`, { statusCode: 404 }),
    inUse: (name) => {
      const user = [...engine.containers.values()].find((c) =>
        c.spec?.mounts.some((m) => m.type === "volume" && m.source === name),
      );
      return user
        ? new DriverError("conflict", `remove volume ${name} failed: volume is in use - [${user.engineId}]`, {
            statusCode: 409,
          })
        : null;
    },
  };
}

function networkKind(engine: FakeEngine): FakeObjectKind<"network"> {
  return {
    objects: engine.networks,
    summary: ({ name, internal }) => {
      const n = engine.networks.size + 1;
      return {
        id: shortHash(`network:${name}`),
        name,
        driver: "bridge",
        internal,
        subnet: `10.89.${n}.0/24`,
        gateway: `10.89.${n}.1`,
        createdAt: engine.now().toISOString(),
      };
    },
    forContainer: (name) => ({ name, internal: false }),
    exists: (name) =>
      new DriverError("conflict", `create network ${name} failed: network with name ${name} already exists`, {
        statusCode: 409,
      }),
    notFound: (name) =>
      new DriverError("not-found", `remove network ${name} failed: network ${name} not found`, {
        statusCode: 404,
      }),
    inUse: (name) => {
      const user = [...engine.containers.values()].find((c) => c.running && c.spec?.networks.includes(name));
      return user
        ? new DriverError("conflict", `remove network ${name} failed: network ${name} has active endpoints`, {
            statusCode: 403,
          })
        : null;
    },
  };
}
