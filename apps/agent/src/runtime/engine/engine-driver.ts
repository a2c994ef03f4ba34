/**
 * The RuntimeDriver for the Docker Engine API: its three parts on one
 * dockerode client over the engine's unix socket, serving Docker and Podman
 * alike.
 *
 * May import: the runtime contract, @fleet/shared, dockerode, node built-ins.
 */
import Docker from "dockerode";
import type { RuntimeDriver } from "../driver";
import { EngineContainerDriver, type EngineContainerOptions } from "./container-driver";
import { toEngineError } from "./engine-error";
import { detectEngine, type EngineName, ZEngineVersion } from "./engine-info";
import { EngineHostObjectStore } from "./host-object-store";
import { EngineImageStore } from "./image-store";

export interface EngineDriverOptions extends EngineContainerOptions {
  /** Path of the engine's unix socket (see engine-discovery.ts). */
  socketPath: string;
}

export class EngineDriver implements RuntimeDriver {
  readonly name: EngineName;
  readonly containers: EngineContainerDriver;
  readonly images: EngineImageStore;
  readonly hostObjects: EngineHostObjectStore;

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
    const { socketPath, ...containerOptions } = opts;
    const docker = new Docker({ socketPath });
    this.name = engine;
    this.images = new EngineImageStore(docker);
    this.hostObjects = new EngineHostObjectStore(docker);
    this.containers = new EngineContainerDriver(docker, engine, this.hostObjects, containerOptions);
  }
}
