/**
 * The fake RuntimeDriver for unit tests of the supervisor, the reconciler,
 * the operations and the agent: the three fake parts over one in-memory
 * engine, which a test keeps (or reaches as `engine`) to drive and inspect.
 *
 * May import: the runtime contract, @fleet/shared types, node built-ins.
 */
import type { RuntimeDriver } from "../driver";
import { FakeContainerDriver } from "./container-driver";
import { FakeEngine } from "./fake-engine";
import { FakeHostObjectStore } from "./host-object-store";
import { FakeImageStore } from "./image-store";

export class FakeDriver implements RuntimeDriver {
  readonly name = "fake";
  readonly containers: FakeContainerDriver;
  readonly images: FakeImageStore;
  readonly hostObjects: FakeHostObjectStore;

  constructor(readonly engine: FakeEngine = new FakeEngine()) {
    this.images = new FakeImageStore(engine);
    this.hostObjects = new FakeHostObjectStore(engine);
    this.containers = new FakeContainerDriver(engine, this.hostObjects);
  }
}
