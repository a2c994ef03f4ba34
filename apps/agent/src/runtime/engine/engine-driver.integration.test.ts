/**
 * The engine driver against real engines: a private dockerd and a private
 * Podman service (one each, from the test harness), a private registry on
 * 127.0.0.1 and the kernel's own cgroup files as the judge of the limits.
 */
import { readFile } from "node:fs/promises";
import http from "node:http";
import { join } from "node:path";
import { normalizeImageRef } from "@fleet/shared/image-ref";
import { describeEachEngine } from "@fleet/test/harness/engines";
import { startRegistry, type TestRegistry } from "@fleet/test/harness/registry";
import { buildTestImage, TEST_IMAGE_TAG, tarArchive } from "@fleet/test/harness/test-image";
import { afterAll, beforeAll, expect, it } from "vitest";
import { resolveCgroupDirs } from "../../metrics/cgroup/paths";
import type { DriverEvent, LogLine } from "../container-driver";
import { FLEET_LABELS, isDriverError } from "../driver";
import { makeContainerSpec } from "../fake/container-spec-factory";
import { EngineDriver } from "./engine-driver";

const MiB = 1024 * 1024;
const HOST_ID = "host-a";

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
});

function limitedSpec(command: string[], overrides: Parameters<typeof makeContainerSpec>[0] = {}) {
  return makeContainerSpec({
    image: TEST_IMAGE_TAG,
    command,
    resources: {
      cpuRequestMillis: 250,
      cpuLimitMillis: 500,
      memoryRequestBytes: 32 * MiB,
      memoryLimitBytes: 64 * MiB,
      pidsRequest: 10,
      pidsLimit: 50,
    },
    ...overrides,
  });
}

async function readCgroupFile(dir: string | null, file: string): Promise<string | null> {
  if (dir === null) throw new Error(`controller for ${file} is not mounted`);
  try {
    return (await readFile(join(dir, file), "utf8")).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** HEAD of a manifest in the registry: the digest the registry itself computed. */
function registryManifestDigest(url: string, repository: string, tag: string): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}/v2/${repository}/manifests/${tag}`,
      {
        method: "HEAD",
        headers: {
          Accept: [
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
          ].join(", "),
        },
      },
      (res) => {
        res.resume();
        const digest = res.headers["docker-content-digest"];
        resolve(res.statusCode === 200 && typeof digest === "string" ? digest : null);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describeEachEngine(
  "EngineDriver",
  ({ kind, engine }) => {
    let driver: EngineDriver;

    beforeAll(async () => {
      await buildTestImage(engine());
      driver = await EngineDriver.connect({
        socketPath: engine().socketPath,
        hostId: HOST_ID,
        cgroupParent: engine().cgroupParent,
      });
    });

    it("knows which engine it drives and fingerprints the host", async () => {
      expect(driver.name).toBe(kind);
      const fp = await driver.containers.fingerprint();
      expect(fp.engine.name).toBe(kind);
      expect(fp.engine.apiVersion).toMatch(/^1\.\d+$/);
      expect(fp.cpus).toBeGreaterThan(0);
      expect(fp.memoryBytes).toBeGreaterThan(64 * MiB);
      expect(fp.arch).toBe(process.arch === "x64" ? "amd64" : process.arch);
      expect(fp.dataRoot.startsWith(engine().dataDir)).toBe(true);
      // This machine mounts cgroup v1 (with an empty cgroup2 tree beside it).
      expect(fp.cgroupVersion).toBe(1);
    });

    it("starts a container whose cgroup carries the spec's limits", async () => {
      const spec = limitedSpec(["sleep", "300"]);
      const c = await driver.containers.start({ spec, hostId: HOST_ID, specHash: "hash-limits" });
      try {
        expect(c).toMatchObject({
          running: true,
          containerId: spec.id,
          hostId: HOST_ID,
          specHash: "hash-limits",
        });
        expect(c.pid).toBeGreaterThan(0);
        const procCgroup = await readFile(`/proc/${c.pid}/cgroup`, "utf8");
        expect(procCgroup).toContain(engine().cgroupParent);
        const cgroup = await resolveCgroupDirs(c.pid!);
        if (cgroup.version !== 1) throw new Error("expected cgroup v1 on this machine");
        const { memory, cpu, pids } = cgroup.dirs;
        expect(await readCgroupFile(memory, "memory.limit_in_bytes")).toBe("67108864");
        const memsw = await readCgroupFile(memory, "memory.memsw.limit_in_bytes");
        if (memsw !== null) expect(memsw).toBe("67108864");
        expect(await readCgroupFile(cpu, "cpu.cfs_quota_us")).toBe("50000");
        expect(await readCgroupFile(cpu, "cpu.cfs_period_us")).toBe("100000");
        expect(await readCgroupFile(cpu, "cpu.shares")).toBe("256");
        expect(await readCgroupFile(pids, "pids.max")).toBe("50");
      } finally {
        await driver.containers.destroy(c.engineId);
      }
    });

    it("reports start and die events and the exit code through wait", async () => {
      const ac = new AbortController();
      const events = driver.containers.events(ac.signal);
      // An unmanaged container on the same engine must not show up.
      const stranger = await engine().docker.createContainer({ Image: TEST_IMAGE_TAG, Cmd: ["true"] });
      await stranger.start();
      const c = await driver.containers.start({
        spec: limitedSpec(["sh", "-c", "sleep 0.3; exit 3"]),
        hostId: HOST_ID,
        specHash: "h",
      });
      const exit = await driver.containers.wait(c.engineId);
      expect(exit.exitCode).toBe(3);
      expect(exit.oomKilled).toBe(false);
      expect(exit.finishedAt.getTime()).toBeGreaterThan(Date.now() - 60_000);

      const seen: DriverEvent[] = [];
      for await (const event of events) {
        seen.push(event);
        if (event.kind === "die" && event.engineId === c.engineId) ac.abort();
      }
      expect(seen.every((e) => e.engineId === c.engineId)).toBe(true);
      expect(seen.map((e) => e.kind)).toEqual(["start", "die"]);
      expect(seen[1]).toMatchObject({ kind: "die", exitCode: 3, containerId: c.containerId });
      expect(await driver.containers.inspect(c.engineId)).toMatchObject({
        running: false,
        exitCode: 3,
        pid: null,
      });
      await driver.containers.destroy(c.engineId);
      await stranger.remove({ force: true });
    });

    it("ends the event stream cleanly when aborted while idle", async () => {
      const ac = new AbortController();
      const events = driver.containers.events(ac.signal);
      setTimeout(() => ac.abort(), 200);
      await expect(collect(events)).resolves.toEqual([]);
    });

    it("recovers its managed containers with their labels, and no one else's", async () => {
      const spec = limitedSpec(["sleep", "300"], { labels: { team: "core" } });
      const mine = await driver.containers.start({ spec, hostId: HOST_ID, specHash: "hash-r" });
      const otherHost = new EngineDriver({ socketPath: engine().socketPath, hostId: "host-b" }, driver.name);
      const theirs = await otherHost.containers.start({
        spec: limitedSpec(["sleep", "300"]),
        hostId: "host-b",
        specHash: "x",
      });
      const unmanaged = await engine().docker.createContainer({
        Image: TEST_IMAGE_TAG,
        Cmd: ["sleep", "300"],
      });
      try {
        const recovered = await driver.containers.recover();
        expect(recovered.map((r) => r.engineId)).toEqual([mine.engineId]);
        expect(recovered[0]).toMatchObject({
          containerId: spec.id,
          hostId: HOST_ID,
          specHash: "hash-r",
          name: spec.name,
          running: true,
          pid: mine.pid,
          exitCode: null,
          finishedAt: null,
        });
        expect(recovered[0]?.startedAt).toBeInstanceOf(Date);
        // Podman reports the short name qualified (`docker.io/fleet-test/busybox:latest`).
        expect(normalizeImageRef(recovered[0]?.image ?? "")).toBe(normalizeImageRef(TEST_IMAGE_TAG));
        expect(recovered[0]?.labels).toMatchObject({ team: "core", [FLEET_LABELS.managed]: "true" });
      } finally {
        await driver.containers.destroy(mine.engineId);
        await otherHost.containers.destroy(theirs.engineId);
        await unmanaged.remove({ force: true });
      }
    });

    it("serves logs with stdout and stderr apart, joining partial writes, following to the exit", async () => {
      const script = [
        "echo out1",
        "echo err1 >&2",
        "printf part",
        "sleep 0.5",
        "echo ial",
        "head -c 20000 /dev/zero | tr '\\0' x",
        "echo",
        "i=0",
        "while [ $i -lt 3 ]; do echo tick$i; i=$((i+1)); sleep 0.2; done",
        "echo last >&2",
      ].join("; ");
      const c = await driver.containers.start({
        spec: limitedSpec(["sh", "-c", script]),
        hostId: HOST_ID,
        specHash: "h",
      });
      try {
        const followed = await collect(
          driver.containers.logs(c.engineId, { tail: -1, follow: true, stdout: true, stderr: true }),
        );
        const text = (stream: LogLine["stream"], lines: LogLine[]) =>
          lines.filter((l) => l.stream === stream).map((l) => (l.truncated ? `${l.line.length}!` : l.line));
        expect(text("stdout", followed)).toEqual(["out1", "partial", "16384!", "tick0", "tick1", "tick2"]);
        expect(text("stderr", followed)).toEqual(["err1", "last"]);
        expect(followed.every((l) => typeof l.ts === "string" && !Number.isNaN(Date.parse(l.ts)))).toBe(true);

        const stderrOnly = await collect(
          driver.containers.logs(c.engineId, { tail: -1, follow: false, stdout: false, stderr: true }),
        );
        expect(stderrOnly.map((l) => l.line)).toEqual(["err1", "last"]);
        // The engines count `tail` in log entries of both streams, before the stream filter.
        const tail = await collect(
          driver.containers.logs(c.engineId, { tail: 2, follow: false, stdout: true, stderr: true }),
        );
        expect(tail.map((l) => `${l.stream}:${l.line}`)).toEqual(["stdout:tick2", "stderr:last"]);
        const since = await collect(
          driver.containers.logs(c.engineId, {
            tail: -1,
            follow: false,
            stdout: true,
            stderr: true,
            since: new Date(Date.parse(followed.at(-1)?.ts ?? "") + 1000).toISOString(),
          }),
        );
        expect(since).toEqual([]);
      } finally {
        await driver.containers.destroy(c.engineId);
      }
    });

    it("stops following logs when the signal aborts", async () => {
      const c = await driver.containers.start({
        spec: limitedSpec(["sh", "-c", "while true; do echo tick; sleep 0.1; done"]),
        hostId: HOST_ID,
        specHash: "h",
      });
      try {
        const ac = new AbortController();
        const lines: LogLine[] = [];
        for await (const line of driver.containers.logs(
          c.engineId,
          { tail: -1, follow: true, stdout: true, stderr: true },
          ac.signal,
        )) {
          lines.push(line);
          if (lines.length === 3) ac.abort();
        }
        expect(lines.map((l) => l.line)).toEqual(["tick", "tick", "tick"]);
      } finally {
        await driver.containers.destroy(c.engineId);
      }
    });

    it("follows on from the tail with no line left out or repeated, at hundreds of lines a second", async () => {
      // Podman lost the lines written between reading the tail and opening the follow. (Far faster
      // writers, tens of thousands of lines a second, make Podman 4's follow itself drop lines.)
      const c = await driver.containers.start({
        spec: limitedSpec(["sh", "-c", "i=0; while true; do i=$((i+1)); echo n$i; usleep 100; done"]),
        hostId: HOST_ID,
        specHash: "h",
      });
      try {
        const newest = async () => {
          const [line] = await collect(
            driver.containers.logs(c.engineId, { tail: 1, follow: false, stdout: true, stderr: true }),
          );
          return Number(line?.line.slice(1) ?? 0);
        };
        await expect.poll(newest, { timeout: 20_000 }).toBeGreaterThan(100);
        for (const tail of [1, 5, 0, 1, 5, 0, 1, 5, 0]) {
          const before = await newest();
          const ac = new AbortController();
          const seen: number[] = [];
          for await (const line of driver.containers.logs(
            c.engineId,
            { tail, follow: true, stdout: true, stderr: true },
            ac.signal,
          )) {
            seen.push(Number(line.line.slice(1)));
            if (seen.length === 100) ac.abort();
          }
          const jumps = seen.flatMap((n, k) =>
            k > 0 && n !== (seen[k - 1] as number) + 1 ? [`${seen[k - 1]}→${n}`] : [],
          );
          expect(jumps, `tail ${tail}`).toEqual([]);
          // The tail's lines were there already (the newest `tail` ones or later); without one, all are new.
          const first = seen[0] as number;
          if (tail > 0) expect(first, `tail ${tail}`).toBeGreaterThan(before - tail);
          else expect(first, "tail 0").toBeGreaterThan(before);
        }
      } finally {
        await driver.containers.destroy(c.engineId);
      }
    });

    it("stops, restarts in place and destroys (twice without error)", async () => {
      const c = await driver.containers.start({
        spec: limitedSpec(["sleep", "300"]),
        hostId: HOST_ID,
        specHash: "h",
      });
      // sleep as pid 1 ignores SIGTERM, so the engine kills it after the timeout: 137.
      await driver.containers.stop(c.engineId, 1);
      expect(await driver.containers.inspect(c.engineId)).toMatchObject({
        running: false,
        exitCode: 137,
        pid: null,
      });
      await driver.containers.stop(c.engineId, 1);
      const again = await driver.containers.restart(c.engineId);
      expect(again.engineId).toBe(c.engineId);
      expect(again.running).toBe(true);
      expect(again.pid).not.toBe(c.pid);
      await driver.containers.destroy(c.engineId);
      await driver.containers.destroy(c.engineId);
      expect(await driver.containers.inspect(c.engineId)).toBeNull();
      await expect(driver.containers.wait(c.engineId)).rejects.toMatchObject({
        code: "not-found",
        statusCode: 404,
      });
    });

    it("replaces a stopped leftover of the same container but refuses a name held by another", async () => {
      const spec = limitedSpec(["sleep", "300"]);
      const first = await driver.containers.start({ spec, hostId: HOST_ID, specHash: "h" });
      const other = limitedSpec(["sleep", "300"], { name: spec.name });
      const conflict = await driver.containers
        .start({ spec: other, hostId: HOST_ID, specHash: "h" })
        .catch((e: unknown) => e);
      expect(isDriverError(conflict, "name-conflict")).toBe(true);
      expect((conflict as Error).message).toBe(
        `create ${spec.name} failed: the name is already in use by container ${first.engineId.slice(0, 12)} (running, Fleet container ${spec.id})`,
      );
      // Running: even the same Fleet container is not replaced (the supervisor adopts it instead).
      await expect(driver.containers.start({ spec, hostId: HOST_ID, specHash: "h" })).rejects.toMatchObject({
        code: "name-conflict",
      });
      await driver.containers.stop(first.engineId, 0);
      const second = await driver.containers.start({ spec, hostId: HOST_ID, specHash: "h2" });
      expect(second.engineId).not.toBe(first.engineId);
      expect(second.specHash).toBe("h2");
      expect(await driver.containers.inspect(first.engineId)).toBeNull();
      await driver.containers.destroy(second.engineId);
    });

    it("fails a start with the engine's reason and leaves no container behind", async () => {
      const spec = limitedSpec(["/nonexistent"]);
      const err = await driver.containers
        .start({ spec, hostId: HOST_ID, specHash: "h" })
        .catch((e: unknown) => e);
      expect(isDriverError(err, "engine")).toBe(true);
      expect((err as Error).message).toMatch(new RegExp(`^start ${spec.name} failed: .*/nonexistent`));
      expect((err as Error).stack ?? "").not.toMatch(/docker-modem|dockerode/);
      expect((await driver.containers.recover()).map((c) => c.name)).not.toContain(spec.name);

      const missingImage = limitedSpec(["true"], { image: `${registry.host}/never-pulled:1` });
      await expect(
        driver.containers.start({ spec: missingImage, hostId: HOST_ID, specHash: "h" }),
      ).rejects.toMatchObject({
        code: "image-not-found",
        statusCode: 404,
      });
    });

    it("pulls from the local registry with progress and a digest, and explains a missing image", async () => {
      // An image this engine has never held, as on a real host: built here, pushed, then removed entirely.
      const repository = `${registry.host}/fleet-test/pull-${kind}`;
      const reference = `${repository}:1`;
      const context = tarArchive([
        {
          path: "Dockerfile",
          content: Buffer.from(`FROM ${TEST_IMAGE_TAG}\nRUN echo ${kind} > /marker\n`),
          mode: 0o644,
        },
      ]);
      const { imageId } = await driver.images.buildImage(context, { tag: reference });
      await driver.images.pushImage(reference);
      await driver.images.removeImage(imageId, { force: true });
      expect(await driver.images.imageExists(reference)).toBe(false);

      const progress: string[] = [];
      const { digest } = await driver.images.pullImage(reference, {
        onProgress: (p) => progress.push(p.status),
      });
      expect(await driver.images.imageExists(reference)).toBe(true);
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(digest).toBe(await registryManifestDigest(registry.url, `fleet-test/pull-${kind}`, "1"));
      expect(progress.length).toBeGreaterThan(0);
      const listed = await driver.images.listImages();
      expect(listed.find((img) => img.tags.includes(reference))?.id).toBe(imageId);

      const missing = `${registry.host}/nope:latest`;
      const err = await driver.images.pullImage(missing).catch((e: unknown) => e);
      expect(isDriverError(err, "pull-failed")).toBe(true);
      expect((err as Error).message).toMatch(new RegExp(`^pull ${missing} failed: .*manifest unknown`));
      // Docker refuses with HTTP 404 up front; Podman answers 200 and reports the error inside the stream.
      expect((err as { statusCode?: number }).statusCode).toBe(kind === "docker" ? 404 : undefined);
    });

    it("builds from a tar context, reporting output and the image id, and fails a broken build", async () => {
      const tag = `fleet-test/built-${kind}:1`;
      const context = tarArchive([
        {
          path: "Dockerfile",
          content: Buffer.from(`FROM ${TEST_IMAGE_TAG}\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt\n`),
          mode: 0o644,
        },
        { path: "hello.txt", content: Buffer.from("hello from the context\n"), mode: 0o644 },
      ]);
      const output: string[] = [];
      const { imageId } = await driver.images.buildImage(context, {
        tag,
        onOutput: (line) => output.push(line),
      });
      expect(imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(output).toContain("hello from the context");
      expect((await engine().docker.getImage(tag).inspect()).Id).toBe(imageId);

      const broken = tarArchive([
        {
          path: "Dockerfile",
          content: Buffer.from(`FROM ${TEST_IMAGE_TAG}\nRUN echo hi; exit 3\n`),
          mode: 0o644,
        },
      ]);
      const err = await driver.images
        .buildImage(broken, { tag: "fleet-test/broken:1" })
        .catch((e: unknown) => e);
      expect(isDriverError(err, "build-failed")).toBe(true);
      expect((err as Error).message).toMatch(
        /^build fleet-test\/broken:1 failed: .*(exit status 3|non-zero code: 3)/,
      );
    });

    it("pushes to the registry and returns the digest the registry stored", async () => {
      const reference = `${registry.host}/fleet-test/pushed-${kind}:2`;
      await engine()
        .docker.getImage(TEST_IMAGE_TAG)
        .tag({ repo: `${registry.host}/fleet-test/pushed-${kind}`, tag: "2" });
      const progress: string[] = [];
      const { digest } = await driver.images.pushImage(reference, {
        onProgress: (p) => progress.push(p.status),
      });
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(digest).toBe(await registryManifestDigest(registry.url, `fleet-test/pushed-${kind}`, "2"));
      expect(progress.length).toBeGreaterThan(0);

      const err = await driver.images
        .pushImage(`${registry.host}/fleet-test/absent:1`)
        .catch((e: unknown) => e);
      expect(isDriverError(err)).toBe(true);
      expect((err as Error).message).toMatch(/^push .*absent:1 failed: /);
    });

    it("kills a process past its memory limit with 137; only Docker says it was the OOM killer", async () => {
      const ac = new AbortController();
      const events = driver.containers.events(ac.signal);
      // Command substitution makes the shell hold all 200 MiB as anonymous memory.
      const spec = limitedSpec(["sh", "-c", 'x=$(head -c 200m /dev/zero | tr "\\0" a); echo survived']);
      const c = await driver.containers.start({ spec, hostId: HOST_ID, specHash: "h" });
      const exit = await driver.containers.wait(c.engineId);
      expect(exit.exitCode).toBe(137);
      const seen: DriverEvent["kind"][] = [];
      for await (const event of events) {
        if (event.engineId !== c.engineId) continue;
        seen.push(event.kind);
        if (event.kind === "die") ac.abort();
      }
      if (kind === "docker") {
        expect(exit.oomKilled).toBe(true);
        // One `oom` per process the kernel killed in the container (here the shell, sometimes `tr` too).
        expect(seen[0]).toBe("start");
        expect(seen.at(-1)).toBe("die");
        expect(seen.slice(1, -1).length).toBeGreaterThan(0);
        expect(seen.slice(1, -1).every((k) => k === "oom")).toBe(true);
      } else {
        // Podman 4.3 never reports OOM kills (fixed in 5.0): the agent reads the kernel's counters instead.
        expect(exit.oomKilled).toBe(false);
        expect(seen).toEqual(["start", "die"]);
      }
      await driver.containers.destroy(c.engineId);
    });
  },
  () => ({ insecureRegistries: [registry.host] }),
);
