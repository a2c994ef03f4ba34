/**
 * The HostObjectStore for the Docker Engine API: a table with one entry per
 * kind, each saying how that kind is created, listed and removed on the
 * engine; both engines' quirks for each are in README.md.
 */
import type Docker from "dockerode";
import { FLEET_LABELS, isDriverError } from "../driver";
import type {
  HostObjectCreate,
  HostObjectKind,
  HostObjectStore,
  HostObjectSummary,
  NetworkSummary,
  VolumeSummary,
} from "../host-object-store";
import { EngineError, statusCodeOf, toEngineError } from "./engine-error";
import {
  type EngineDfVolume,
  type EngineNetwork,
  type EngineVolume,
  toNetworkSummary,
  toVolumeSummaries,
} from "./engine-objects";

interface EngineObjectKind<K extends HostObjectKind> {
  create(opts: HostObjectCreate<K>): Promise<HostObjectSummary<K>>;
  list(): Promise<Array<HostObjectSummary<K>>>;
  remove(name: string): Promise<void>;
  /** Creates it, when missing, for a container about to be created; `action` names that create. */
  ensure(name: string, action: string): Promise<void>;
}

type EngineObjectKinds = { [K in HostObjectKind]: EngineObjectKind<K> };

export class EngineHostObjectStore implements HostObjectStore {
  private readonly kinds: EngineObjectKinds;

  constructor(docker: Docker) {
    this.kinds = { volume: volumeKind(docker), network: networkKind(docker) };
  }

  create<K extends HostObjectKind>(kind: K, opts: HostObjectCreate<K>): Promise<HostObjectSummary<K>> {
    return this.kind(kind).create(opts);
  }

  list<K extends HostObjectKind>(kind: K): Promise<Array<HostObjectSummary<K>>> {
    return this.kind(kind).list();
  }

  remove(kind: HostObjectKind, name: string): Promise<void> {
    return this.kind(kind).remove(name);
  }

  /** For the container driver's start: the object a spec names, created unless it exists. */
  ensure(kind: HostObjectKind, name: string, action: string): Promise<void> {
    return this.kind(kind).ensure(name, action);
  }

  private kind<K extends HostObjectKind>(kind: K): EngineObjectKind<K> {
    return this.kinds[kind];
  }
}

function volumeKind(docker: Docker): EngineObjectKind<"volume"> {
  // The engines return an existing volume of that name as it is, so creating is also ensuring.
  const createVolume = (name: string) =>
    docker.createVolume({ Name: name, Labels: { [FLEET_LABELS.managed]: "true" } });

  const list = async (): Promise<VolumeSummary[]> => {
    try {
      // Sizes only come from df; Podman's df lacks Driver and CreatedAt, which the list has.
      const [listed, usage] = await Promise.all([docker.listVolumes(), docker.df()]);
      return toVolumeSummaries(
        (listed.Volumes ?? []) as EngineVolume[],
        ((usage as { Volumes?: EngineDfVolume[] | null }).Volumes ?? []) as EngineDfVolume[],
      );
    } catch (err) {
      throw toEngineError(err, "list volumes");
    }
  };

  return {
    async create({ name }) {
      try {
        await createVolume(name);
      } catch (err) {
        throw toEngineError(err, `create volume ${name}`);
      }
      const volume = (await list()).find((v) => v.name === name);
      if (!volume) throw new EngineError("not-found", `create volume ${name} failed: the volume vanished`);
      return volume;
    },
    list,
    async remove(name) {
      try {
        await docker.getVolume(name).remove();
      } catch (err) {
        // Both engines answer 409 while a container (running or not) uses it.
        throw toEngineError(err, `remove volume ${name}`);
      }
    },
    async ensure(name, action) {
      try {
        await createVolume(name);
      } catch (err) {
        throw toEngineError(err, `${action}: create volume ${name}`);
      }
    },
  };
}

function networkKind(docker: Docker): EngineObjectKind<"network"> {
  /** Per name, so two containers joining a new network at once do not create it twice (Docker would). */
  const creations = new Map<string, Promise<void>>();

  const inspect = async (name: string, action: string): Promise<NetworkSummary | null> => {
    try {
      return toNetworkSummary((await docker.getNetwork(name).inspect()) as EngineNetwork);
    } catch (err) {
      if (statusCodeOf(err) === 404) return null;
      throw toEngineError(err, `${action}: inspect network ${name}`);
    }
  };

  const create = async (opts: HostObjectCreate<"network">): Promise<NetworkSummary> => {
    const action = `create network ${opts.name}`;
    try {
      await docker.createNetwork({
        Name: opts.name,
        Driver: "bridge",
        CheckDuplicate: true,
        Internal: opts.internal,
        Labels: { [FLEET_LABELS.managed]: "true" },
      });
    } catch (err) {
      throw toEngineError(err, action, { code: conflictOnDuplicate(err) });
    }
    const network = await inspect(opts.name, action);
    if (!network) throw new EngineError("not-found", `${action} failed: the network vanished`);
    return network;
  };

  const createIfMissing = async (name: string, action: string): Promise<void> => {
    if (await inspect(name, action)) return;
    try {
      await create({ name, internal: false });
    } catch (err) {
      // Someone else (another agent on this engine, a person) created it meanwhile: that is fine.
      if (isDriverError(err, "conflict") && (await inspect(name, action))) return;
      throw err instanceof EngineError ? new EngineError(err.code, `${action}: ${err.message}`) : err;
    }
  };

  return {
    create,
    async list() {
      try {
        return ((await docker.listNetworks()) as EngineNetwork[]).map(toNetworkSummary);
      } catch (err) {
        throw toEngineError(err, "list networks");
      }
    },
    async remove(name) {
      try {
        await docker.getNetwork(name).remove();
      } catch (err) {
        const status = statusCodeOf(err);
        // Docker answers 403 "has active endpoints" for a network in use, Podman 409 or 500 "in use".
        const inUse =
          status === 409 ||
          ((status === 403 || status === 500) && /active endpoints|in use|being used/i.test(String(err)));
        throw toEngineError(err, `remove network ${name}`, inUse ? { code: "conflict" } : {});
      }
    },
    async ensure(name, action) {
      let creating = creations.get(name);
      if (!creating) {
        creating = createIfMissing(name, action).finally(() => {
          creations.delete(name);
        });
        creations.set(name, creating);
      }
      await creating;
    },
  };
}

/** Docker answers a duplicate network name with 409, Podman with 409 or 500 "already exists". */
function conflictOnDuplicate(err: unknown): "conflict" | "engine" {
  const status = statusCodeOf(err);
  return status === 409 || /already (exists|used)/i.test(String(err)) ? "conflict" : "engine";
}
