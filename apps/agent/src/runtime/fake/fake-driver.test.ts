import { describe, expect, it } from "vitest";
import type { DriverEvent } from "../container-driver";
import { FLEET_LABELS, isDriverError } from "../driver";
import { makeContainerSpec } from "./container-spec-factory";
import { FakeDriver } from "./fake-driver";
import { FakeEngine } from "./fake-engine";

const IMAGE = "fleet-test/busybox:latest";

async function take<T>(iterable: AsyncIterable<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  for await (const v of iterable) {
    out.push(v);
    if (out.length === n) break;
  }
  return out;
}

describe("FakeDriver", () => {
  it("starts a container with Fleet's labels and recovers it", async () => {
    const fake = new FakeDriver(new FakeEngine({ images: [IMAGE] }));
    const spec = makeContainerSpec({ labels: { team: "a" } });
    const started = await fake.containers.start({ spec, hostId: "h1", specHash: "abc" });
    expect(started.running).toBe(true);
    expect(started.pid).toBeGreaterThan(0);
    const [recovered] = await fake.containers.recover();
    expect(recovered).toMatchObject({ engineId: started.engineId, containerId: spec.id, hostId: "h1" });
    expect(recovered?.labels).toMatchObject({ team: "a", [FLEET_LABELS.managed]: "true" });
  });

  it("execs in running containers only, answering what the test scripted, and rejects on abort", async () => {
    const engine = new FakeEngine({ images: [IMAGE] });
    const fake = new FakeDriver(engine);
    const started = await fake.containers.start({ spec: makeContainerSpec(), hostId: "h1", specHash: "abc" });
    const opts = { command: ["true"], timeoutMs: 1000, maxOutputBytes: 4096 };
    await expect(fake.containers.exec(started.engineId, opts)).resolves.toMatchObject({ exitCode: 0 });
    engine.execHandler = () => new Promise(() => {});
    const abort = new AbortController();
    const hanging = fake.containers.exec(started.engineId, opts, abort.signal);
    abort.abort(new Error("gone"));
    await expect(hanging).rejects.toThrow("gone");
    engine.exit(started.engineId, { exitCode: 0 });
    await expect(fake.containers.exec(started.engineId, opts)).rejects.toMatchObject({ code: "conflict" });
    expect(engine.callsTo("exec")).toHaveLength(3);
  });

  it("creates missing volumes and networks at start and refuses to remove them while used", async () => {
    const fake = new FakeDriver(new FakeEngine({ images: [IMAGE] }));
    const spec = makeContainerSpec({
      mounts: [{ type: "volume", source: "data", target: "/data", readOnly: false }],
      networks: ["front"],
    });
    const started = await fake.containers.start({ spec, hostId: "h1", specHash: "abc" });
    expect((await fake.hostObjects.list("volume")).map((v) => v.name)).toEqual(["data"]);
    expect((await fake.hostObjects.list("network")).map((n) => n.name)).toEqual(["front"]);
    await expect(fake.hostObjects.remove("volume", "data")).rejects.toMatchObject({ code: "conflict" });
    await expect(fake.hostObjects.remove("network", "front")).rejects.toMatchObject({ code: "conflict" });
    await expect(
      fake.hostObjects.create("network", { name: "front", internal: false }),
    ).rejects.toMatchObject({
      code: "conflict",
    });
    await fake.containers.stop(started.engineId, 1);
    // As on the engines: a stopped container still holds its volume.
    await expect(fake.hostObjects.remove("volume", "data")).rejects.toMatchObject({ code: "conflict" });
    await fake.containers.destroy(started.engineId);
    await fake.hostObjects.remove("volume", "data");
    await fake.hostObjects.remove("network", "front");
    await expect(fake.hostObjects.remove("volume", "data")).rejects.toMatchObject({ code: "not-found" });
    await expect(fake.hostObjects.remove("network", "front")).rejects.toMatchObject({ code: "not-found" });
  });

  it("resolves wait and emits oom then die on exit()", async () => {
    const fake = new FakeDriver(new FakeEngine({ images: [IMAGE] }));
    const ac = new AbortController();
    const events = fake.containers.events(ac.signal);
    const c = await fake.containers.start({ spec: makeContainerSpec(), hostId: "h1", specHash: "x" });
    const waited = fake.containers.wait(c.engineId);
    fake.engine.exit(c.engineId, { exitCode: 137, oomKilled: true });
    await expect(waited).resolves.toMatchObject({ exitCode: 137, oomKilled: true });
    const kinds = (await take(events, 3)).map((e: DriverEvent) => e.kind);
    expect(kinds).toEqual(["start", "oom", "die"]);
    ac.abort();
    // wait on an exited container answers at once with its last exit
    await expect(fake.containers.wait(c.engineId)).resolves.toMatchObject({ exitCode: 137 });
  });

  it("breaks open event streams with an unavailable error after the buffered events", async () => {
    const fake = new FakeDriver(new FakeEngine({ images: [IMAGE] }));
    const events = fake.containers.events(new AbortController().signal);
    await fake.containers.start({ spec: makeContainerSpec(), hostId: "h", specHash: "1" });
    fake.engine.breakEventStreams();
    const seen: string[] = [];
    const err = await (async () => {
      for await (const e of events) seen.push(e.kind);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(["start"]);
    expect(isDriverError(err, "unavailable")).toBe(true);
  });

  it("fails the armed pull and start once, then succeeds", async () => {
    const fake = new FakeDriver();
    fake.engine.failNextPull(IMAGE, "manifest unknown");
    await expect(fake.images.pullImage(IMAGE)).rejects.toThrow(`pull ${IMAGE} failed: manifest unknown`);
    await fake.images.pullImage(IMAGE);
    expect(await fake.images.imageExists(IMAGE)).toBe(true);

    fake.engine.failNextStart("no space left");
    const spec = makeContainerSpec();
    await expect(fake.containers.start({ spec, hostId: "h", specHash: "1" })).rejects.toThrow(
      "no space left",
    );
    const c = await fake.containers.start({ spec, hostId: "h", specHash: "1" });
    expect(c.running).toBe(true);
    expect(fake.engine.callsTo("start")).toHaveLength(2);
  });

  it("refuses a name taken by another container and a start without the image", async () => {
    const fake = new FakeDriver(new FakeEngine({ images: [IMAGE] }));
    const a = makeContainerSpec();
    await fake.containers.start({ spec: a, hostId: "h", specHash: "1" });
    const err = await fake.containers
      .start({ spec: makeContainerSpec({ name: a.name }), hostId: "h", specHash: "1" })
      .catch((e: unknown) => e);
    expect(isDriverError(err, "name-conflict")).toBe(true);
    const missing = await fake.containers
      .start({ spec: makeContainerSpec({ image: "nope:1" }), hostId: "h", specHash: "1" })
      .catch((e: unknown) => e);
    expect(isDriverError(missing, "image-not-found")).toBe(true);
  });

  it("seeds adopted containers and records every call", async () => {
    const fake = new FakeDriver();
    const seeded = fake.engine.seedContainer({ spec: makeContainerSpec(), hostId: "h", specHash: "s" });
    fake.engine.clearCalls();
    const found = await fake.containers.recover();
    expect(found.map((c) => c.engineId)).toEqual([seeded.engineId]);
    expect(fake.engine.calls.map((c) => c.method)).toEqual(["recover"]);
    expect(fake.engine.callsTo("start")).toHaveLength(0);
  });

  it("stops, restarts and destroys", async () => {
    const fake = new FakeDriver(new FakeEngine({ images: [IMAGE], stopExitCode: 143 }));
    const c = await fake.containers.start({ spec: makeContainerSpec(), hostId: "h", specHash: "1" });
    await fake.containers.stop(c.engineId, 5);
    expect(await fake.containers.inspect(c.engineId)).toMatchObject({ running: false, exitCode: 143 });
    const again = await fake.containers.restart(c.engineId);
    expect(again).toMatchObject({ running: true, exitCode: null });
    await fake.containers.destroy(c.engineId);
    await fake.containers.destroy(c.engineId);
    expect(await fake.containers.inspect(c.engineId)).toBeNull();
  });

  it("serves logs by stream with tail and follow until exit", async () => {
    const fake = new FakeDriver(new FakeEngine({ images: [IMAGE] }));
    const c = await fake.containers.start({ spec: makeContainerSpec(), hostId: "h", specHash: "1" });
    fake.engine.writeLog(c.engineId, "stdout", "one");
    fake.engine.writeLog(c.engineId, "stderr", "two");
    fake.engine.writeLog(c.engineId, "stdout", "three");
    const tail = fake.containers.logs(c.engineId, { tail: 1, follow: false, stdout: true, stderr: false });
    expect((await take(tail, 10)).map((l) => l.line)).toEqual(["three"]);

    const follow = fake.containers.logs(c.engineId, { tail: 0, follow: true, stdout: true, stderr: true });
    fake.engine.writeLog(c.engineId, "stderr", "four");
    fake.engine.exit(c.engineId, { exitCode: 0 });
    const lines = [];
    for await (const l of follow) lines.push(l);
    expect(lines).toEqual([expect.objectContaining({ stream: "stderr", line: "four" })]);
  });
});
