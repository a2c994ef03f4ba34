import { describe, expect, it } from "vitest";
import { type DriverEvent, FLEET_LABELS, isDriverError } from "../driver";
import { makeContainerSpec } from "./container-spec-factory";
import { FakeDriver } from "./fake-driver";

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
    const fake = new FakeDriver({ images: [IMAGE] });
    const spec = makeContainerSpec({ labels: { team: "a" } });
    const started = await fake.start({ spec, hostId: "h1", specHash: "abc" });
    expect(started.running).toBe(true);
    expect(started.pid).toBeGreaterThan(0);
    const [recovered] = await fake.recover();
    expect(recovered).toMatchObject({ engineId: started.engineId, containerId: spec.id, hostId: "h1" });
    expect(recovered?.labels).toMatchObject({ team: "a", [FLEET_LABELS.managed]: "true" });
  });

  it("creates missing volumes and networks at start and refuses to remove them while used", async () => {
    const fake = new FakeDriver({ images: [IMAGE] });
    const spec = makeContainerSpec({
      mounts: [{ type: "volume", source: "data", target: "/data", readOnly: false }],
      networks: ["front"],
    });
    const started = await fake.start({ spec, hostId: "h1", specHash: "abc" });
    expect((await fake.listVolumes()).map((v) => v.name)).toEqual(["data"]);
    expect((await fake.listNetworks()).map((n) => n.name)).toEqual(["front"]);
    await expect(fake.removeVolume("data")).rejects.toMatchObject({ code: "conflict" });
    await expect(fake.removeNetwork("front")).rejects.toMatchObject({ code: "conflict" });
    await expect(fake.createNetwork({ name: "front", internal: false })).rejects.toMatchObject({
      code: "conflict",
    });
    await fake.stop(started.engineId, 1);
    // As on the engines: a stopped container still holds its volume.
    await expect(fake.removeVolume("data")).rejects.toMatchObject({ code: "conflict" });
    await fake.destroy(started.engineId);
    await fake.removeVolume("data");
    await fake.removeNetwork("front");
    await expect(fake.removeVolume("data")).rejects.toMatchObject({ code: "not-found" });
    await expect(fake.removeNetwork("front")).rejects.toMatchObject({ code: "not-found" });
  });

  it("resolves wait and emits oom then die on exit()", async () => {
    const fake = new FakeDriver({ images: [IMAGE] });
    const ac = new AbortController();
    const events = fake.events(ac.signal);
    const c = await fake.start({ spec: makeContainerSpec(), hostId: "h1", specHash: "x" });
    const waited = fake.wait(c.engineId);
    fake.exit(c.engineId, { exitCode: 137, oomKilled: true });
    await expect(waited).resolves.toMatchObject({ exitCode: 137, oomKilled: true });
    const kinds = (await take(events, 3)).map((e: DriverEvent) => e.kind);
    expect(kinds).toEqual(["start", "oom", "die"]);
    ac.abort();
    // wait on an exited container answers at once with its last exit
    await expect(fake.wait(c.engineId)).resolves.toMatchObject({ exitCode: 137 });
  });

  it("breaks open event streams with an unavailable error after the buffered events", async () => {
    const fake = new FakeDriver({ images: [IMAGE] });
    const events = fake.events(new AbortController().signal);
    await fake.start({ spec: makeContainerSpec(), hostId: "h", specHash: "1" });
    fake.breakEventStreams();
    const seen: string[] = [];
    const err = await (async () => {
      for await (const e of events) seen.push(e.kind);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(["start"]);
    expect(isDriverError(err, "unavailable")).toBe(true);
  });

  it("fails the armed pull and start once, then succeeds", async () => {
    const fake = new FakeDriver();
    fake.failNextPull(IMAGE, "manifest unknown");
    await expect(fake.pullImage(IMAGE)).rejects.toThrow(`pull ${IMAGE} failed: manifest unknown`);
    await fake.pullImage(IMAGE);
    expect(await fake.imageExists(IMAGE)).toBe(true);

    fake.failNextStart("no space left");
    const spec = makeContainerSpec();
    await expect(fake.start({ spec, hostId: "h", specHash: "1" })).rejects.toThrow("no space left");
    const c = await fake.start({ spec, hostId: "h", specHash: "1" });
    expect(c.running).toBe(true);
    expect(fake.callsTo("start")).toHaveLength(2);
  });

  it("refuses a name taken by another container and a start without the image", async () => {
    const fake = new FakeDriver({ images: [IMAGE] });
    const a = makeContainerSpec();
    await fake.start({ spec: a, hostId: "h", specHash: "1" });
    const err = await fake
      .start({ spec: makeContainerSpec({ name: a.name }), hostId: "h", specHash: "1" })
      .catch((e: unknown) => e);
    expect(isDriverError(err, "name-conflict")).toBe(true);
    const missing = await fake
      .start({ spec: makeContainerSpec({ image: "nope:1" }), hostId: "h", specHash: "1" })
      .catch((e: unknown) => e);
    expect(isDriverError(missing, "image-not-found")).toBe(true);
  });

  it("seeds adopted containers and records every call", async () => {
    const fake = new FakeDriver();
    const seeded = fake.seedContainer({ spec: makeContainerSpec(), hostId: "h", specHash: "s" });
    fake.clearCalls();
    const found = await fake.recover();
    expect(found.map((c) => c.engineId)).toEqual([seeded.engineId]);
    expect(fake.calls.map((c) => c.method)).toEqual(["recover"]);
    expect(fake.callsTo("start")).toHaveLength(0);
  });

  it("stops, restarts and destroys", async () => {
    const fake = new FakeDriver({ images: [IMAGE], stopExitCode: 143 });
    const c = await fake.start({ spec: makeContainerSpec(), hostId: "h", specHash: "1" });
    await fake.stop(c.engineId, 5);
    expect(await fake.inspect(c.engineId)).toMatchObject({ running: false, exitCode: 143 });
    const again = await fake.restart(c.engineId);
    expect(again).toMatchObject({ running: true, exitCode: null });
    await fake.destroy(c.engineId);
    await fake.destroy(c.engineId);
    expect(await fake.inspect(c.engineId)).toBeNull();
  });

  it("serves logs by stream with tail and follow until exit", async () => {
    const fake = new FakeDriver({ images: [IMAGE] });
    const c = await fake.start({ spec: makeContainerSpec(), hostId: "h", specHash: "1" });
    fake.writeLog(c.engineId, "stdout", "one");
    fake.writeLog(c.engineId, "stderr", "two");
    fake.writeLog(c.engineId, "stdout", "three");
    const tail = fake.logs(c.engineId, { tail: 1, follow: false, stdout: true, stderr: false });
    expect((await take(tail, 10)).map((l) => l.line)).toEqual(["three"]);

    const follow = fake.logs(c.engineId, { tail: 0, follow: true, stdout: true, stderr: true });
    fake.writeLog(c.engineId, "stderr", "four");
    fake.exit(c.engineId, { exitCode: 0 });
    const lines = [];
    for await (const l of follow) lines.push(l);
    expect(lines).toEqual([expect.objectContaining({ stream: "stderr", line: "four" })]);
  });
});
