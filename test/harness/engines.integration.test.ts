import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  describeEachEngine,
  ENGINE_KINDS,
  EngineStreamError,
  startEngine,
  type TestEngine,
  useDockerd,
  usePodman,
} from "./engines";
import { createNetns, pickFreeSubnet } from "./netns";
import { pullImage, pushTestImage, splitReference, startRegistry, type TestRegistry } from "./registry";
import { buildImage, buildTestImage, TEST_IMAGE_TAG } from "./test-image";

const MiB = 1024 * 1024;

let registry: TestRegistry | undefined;
beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
});
function registryHost(): string {
  if (!registry) throw new Error("registry not started");
  return registry.host;
}

describeEachEngine(
  "engine harness",
  ({ kind, engine }) => {
    test("answers on its own socket, in its own directory", async () => {
      const e = engine();
      console.info(`${kind} engine ready in ${e.startupMs} ms`);
      expect(e.kind).toBe(kind);
      expect(e.dockerHost).toBe(`unix://${e.socketPath}`);
      expect(e.socketPath.startsWith(`${e.dataDir}/`)).toBe(true);
      const version = await e.docker.version();
      const isPodman = version.Components?.some((c) => c.Name === "Podman Engine") ?? false;
      expect(isPodman).toBe(kind === "podman");
    });

    test("runs a container whose cgroup holds its memory, CPU and pids limits", async () => {
      const e = engine();
      const imageId = await buildTestImage(e);
      expect(imageId).toMatch(/^(sha256:)?[0-9a-f]{64}$/);
      const container = await e.docker.createContainer({
        Image: TEST_IMAGE_TAG,
        Cmd: ["sleep", "300"],
        HostConfig: {
          Memory: 64 * MiB,
          MemorySwap: 64 * MiB,
          NanoCpus: 500_000_000,
          PidsLimit: 50,
          CgroupParent: e.cgroupParent,
        },
      });
      try {
        await container.start();
        const { State } = await container.inspect();
        expect(State.Running).toBe(true);
        const limits = readCgroupLimits(State.Pid);
        expect(limits.cgroupPath.startsWith(`${e.cgroupParent}/`)).toBe(true);
        expect(limits.cgroupPath).toContain(container.id);
        expect(limits).toMatchObject({
          memoryBytes: 64 * MiB,
          memoryAndSwapBytes: 64 * MiB,
          cpuQuotaMicros: 50_000,
          cpuPeriodMicros: 100_000,
          pidsMax: 50,
        });
      } finally {
        await container.remove({ force: true });
      }
    });

    test("builds an image from a Dockerfile and files given in memory", async () => {
      const e = engine();
      await buildTestImage(e);
      await buildImage(e, {
        tag: "fleet-test/greeting:latest",
        dockerfile: `FROM ${TEST_IMAGE_TAG}\nCOPY greeting.txt /greeting.txt\nCMD ["cat", "/greeting.txt"]\n`,
        files: { "greeting.txt": `hello from ${kind}\n` },
      });
      const output = await runToCompletion(e, "fleet-test/greeting:latest");
      expect(output).toBe(`hello from ${kind}\n`);
    });

    test("a failed build throws with the engine's message", async () => {
      const e = engine();
      await buildTestImage(e);
      await expect(
        buildImage(e, {
          tag: "fleet-test/broken:latest",
          dockerfile: `FROM ${TEST_IMAGE_TAG}\nRUN exit 3\n`,
        }),
      ).rejects.toThrow(/fleet-test\/broken:latest/);
    });

    test("a pull of a missing image fails", async () => {
      const e = engine();
      const missing = `${registryHost()}/fleet-test/no-such-image:latest`;
      const failure = await pullImage(e, missing).then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      expect(failure).toBeInstanceOf(Error);
      expect(failure?.message).toMatch(/manifest unknown/);
      // dockerd says so with HTTP 404; Podman answers 200 and reports it inside the stream.
      if (kind === "podman") expect(failure).toBeInstanceOf(EngineStreamError);
      else expect((failure as Error & { statusCode?: number }).statusCode).toBe(404);
    });
  },
  () => ({ insecureRegistries: [registryHost()] }),
);

describe("registry between engines", () => {
  const docker = useDockerd({ name: "pusher" });
  const podman = usePodman(() => ({ name: "puller", insecureRegistries: [registryHost()] }));

  test("an image pushed from dockerd pulls and runs on podman", async () => {
    const reference = await pushTestImage(docker(), registry!);
    const { repository, tag } = splitReference(reference);
    const tags = await fetchJson(
      `${registry!.url}/v2/${repository.slice(registryHost().length + 1)}/tags/list`,
    );
    expect(tags).toMatchObject({ tags: [tag] });

    await pullImage(podman(), reference);
    const output = await runToCompletion(podman(), reference, ["echo", "pulled"]);
    expect(output).toBe("pulled\n");
  });
});

// Each of these starts its own engines; both kinds at once keeps the file quick.
describe.concurrent("stopping an engine", () => {
  test.for(ENGINE_KINDS)(
    "%s: removes its containers, processes, mounts, cgroups and directory",
    async (kind, { expect }) => {
      const e = await startEngine(kind, { name: `stop-${kind}` });
      let stopped = false;
      try {
        await buildTestImage(e);
        const network = await e.docker.createNetwork({ Name: `stop-net-${kind}`, Driver: "bridge" });
        const container = await e.docker.createContainer({
          Image: TEST_IMAGE_TAG,
          Cmd: ["sleep", "300"],
          HostConfig: { CgroupParent: e.cgroupParent, NetworkMode: `stop-net-${kind}` },
        });
        await container.start();
        const { State, NetworkSettings } = await container.inspect();
        // dockerd names a user network's bridge after the network's id.
        const bridge = kind === "docker" ? `br-${network.id.slice(0, 12)}` : undefined;
        if (bridge) {
          expect(interfaceExists(bridge)).toBe(true);
          const { IPAM } = (await network.inspect()) as { IPAM: { Config: { Subnet: string }[] } };
          expect(IPAM.Config[0]?.Subnet).toMatch(/^10\.(24\d|25[0-5])\.\d+\.0\/24$/);
        }
        expect(mountsUnder(e.dataDir).length).toBeGreaterThan(0);
        expect(processesMentioning(e.dataDir).length).toBeGreaterThan(0);

        await e.stop();
        stopped = true;

        expect(existsSync(`/proc/${State.Pid}`)).toBe(false);
        expect(processesMentioning(e.dataDir)).toEqual([]);
        expect(mountsUnder(e.dataDir)).toEqual([]);
        expect(existsSync(e.dataDir)).toBe(false);
        expect(cgroupDirsOf(e.cgroupParent)).toEqual([]);
        const sandbox = (NetworkSettings as { SandboxKey?: string }).SandboxKey ?? "";
        if (sandbox.startsWith("/run/netns/")) expect(existsSync(sandbox)).toBe(false);
        if (bridge) expect(interfaceExists(bridge)).toBe(false);
      } finally {
        if (!stopped) await e.stop();
      }
    },
  );
});

describe.concurrent("an engine in its own network namespace", () => {
  test.for(ENGINE_KINDS)(
    "%s: runs there, and the namespace and the host reach each other",
    async (kind, { expect }) => {
      const { address } = pickFreeSubnet();
      const netns = await createNetns(`fleet-harness-${kind}-${process.pid}`, `${address}/24`);
      const webRoot = mkdtempSync(join(tmpdir(), "fleet-netns-web-"));
      const hostServer = http.createServer((_, response) => response.end("from the host\n"));
      try {
        const e = await startEngine(kind, { name: `netns-${kind}`, netns: netns.name });
        try {
          for (const pid of e.daemonPids) {
            expect(readlinkSync(`/proc/${pid}/ns/net`)).toBe(`net:[${statSync(netns.path).ino}]`);
          }
          await buildTestImage(e);
          expect(await runToCompletion(e, TEST_IMAGE_TAG, ["echo", "inside"])).toBe("inside\n");
        } finally {
          await e.stop();
        }

        // Host → namespace, as a test reaches an agent's host.
        writeFileSync(join(webRoot, "index.html"), "from the namespace\n");
        netns.spawn(["busybox", "httpd", "-f", "-p", `${netns.address}:8080`, "-h", webRoot], {
          stdio: "ignore",
        });
        await expect
          .poll(() => fetchText(`http://${netns.address}:8080/`), { timeout: 5_000 })
          .toBe("from the namespace\n");

        // Namespace → host, as an agent dials the central.
        const port = 20_000 + Math.floor(Math.random() * 12_000);
        await new Promise<void>((resolve) => hostServer.listen(port, netns.hostAddress, resolve));
        const wget = netns.spawn([
          "busybox",
          "wget",
          "-q",
          "-O",
          "-",
          `http://${netns.hostAddress}:${port}/`,
        ]);
        let fetched = "";
        wget.stdout?.on("data", (chunk: Buffer) => {
          fetched += chunk.toString();
        });
        // "close", not "exit": stdout may still hold data when the process has exited.
        const code = await new Promise<number | null>((resolve) => wget.once("close", resolve));
        expect(code).toBe(0);
        expect(fetched).toBe("from the host\n");
      } finally {
        hostServer.close();
        await netns.stop();
        rmSync(webRoot, { recursive: true, force: true });
      }
      expect(existsSync(netns.path)).toBe(false);
      expect(readFileSync("/proc/net/dev", "utf8")).not.toContain(netns.hostInterface);
    },
  );
});

// ---------------------------------------------------------------------------

async function runToCompletion(engine: TestEngine, image: string, cmd?: string[]): Promise<string> {
  const container = await engine.docker.createContainer({
    Image: image,
    ...(cmd ? { Cmd: cmd } : {}),
    HostConfig: { CgroupParent: engine.cgroupParent },
  });
  try {
    await container.start();
    const { StatusCode } = await container.wait();
    if (StatusCode !== 0) throw new Error(`${image} exited with ${StatusCode}`);
    const logs = await container.logs({ stdout: true, stderr: true, follow: false });
    return demultiplex(logs);
  } finally {
    await container.remove({ force: true });
  }
}

/** Strips the 8-byte stream headers of a non-TTY container's log. */
function demultiplex(logs: Buffer): string {
  const chunks: Buffer[] = [];
  for (let at = 0; at + 8 <= logs.length; ) {
    const size = logs.readUInt32BE(at + 4);
    chunks.push(logs.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function fetchText(url: string): Promise<string> {
  try {
    const response = await fetch(url);
    return await response.text();
  } catch {
    return "";
  }
}

async function fetchJson(url: string): Promise<unknown> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return response.json();
}

interface CgroupLimits {
  cgroupPath: string;
  memoryBytes: number;
  memoryAndSwapBytes: number;
  cpuQuotaMicros: number;
  cpuPeriodMicros: number;
  pidsMax: number;
}

/** Reads a process's limits from its cgroup files, as the kernel enforces them (v1 or v2). */
function readCgroupLimits(pid: number): CgroupLimits {
  const memberships = readFileSync(`/proc/${pid}/cgroup`, "utf8")
    .trim()
    .split("\n")
    .map((line) => {
      // "<id>:<controllers>:<path>"; the v2 line has no controllers ("0::/path").
      const first = line.indexOf(":");
      const second = line.indexOf(":", first + 1);
      return { controllers: line.slice(first + 1, second).split(","), path: line.slice(second + 1) };
    });
  const file = (controller: string, name: string): string => {
    const membership = memberships.find((m) => m.controllers.includes(controller));
    const mount = cgroupMounts().find((m) => (controller === "" ? m.v2 : m.controllers.includes(controller)));
    if (!membership || !mount) throw new Error(`no ${controller || "cgroup2"} hierarchy for pid ${pid}`);
    const relative = mount.root === "/" ? membership.path : membership.path.slice(mount.root.length);
    return readFileSync(join(mount.mountPoint, relative, name), "utf8").trim();
  };
  const v1 = cgroupMounts().some((m) => m.controllers.includes("memory"));
  if (v1) {
    const cgroupPath = memberships.find((m) => m.controllers.includes("memory"))!.path;
    return {
      cgroupPath,
      memoryBytes: Number(file("memory", "memory.limit_in_bytes")),
      memoryAndSwapBytes: Number(file("memory", "memory.memsw.limit_in_bytes")),
      cpuQuotaMicros: Number(file("cpu", "cpu.cfs_quota_us")),
      cpuPeriodMicros: Number(file("cpu", "cpu.cfs_period_us")),
      pidsMax: Number(file("pids", "pids.max")),
    };
  }
  const cgroupPath = memberships.find((m) => m.controllers.includes(""))!.path;
  const [quota = "", period = ""] = file("", "cpu.max").split(" ");
  return {
    cgroupPath,
    memoryBytes: Number(file("", "memory.max")),
    // v2 counts swap apart from memory: no swap allowed means memory.swap.max is 0.
    memoryAndSwapBytes: Number(file("", "memory.max")) + Number(file("", "memory.swap.max")),
    cpuQuotaMicros: Number(quota),
    cpuPeriodMicros: Number(period),
    pidsMax: Number(file("", "pids.max")),
  };
}

interface CgroupMount {
  root: string;
  mountPoint: string;
  v2: boolean;
  controllers: string[];
}

function cgroupMounts(): CgroupMount[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .trim()
    .split("\n")
    .flatMap((line) => {
      const [left = "", right = ""] = line.split(" - ");
      const [fsType = "", , superOptions = ""] = right.split(" ");
      const fields = left.split(" ");
      if (fsType !== "cgroup" && fsType !== "cgroup2") return [];
      return [
        {
          root: fields[3] ?? "/",
          mountPoint: fields[4] ?? "",
          v2: fsType === "cgroup2",
          controllers: fsType === "cgroup" ? superOptions.split(",") : [],
        },
      ];
    });
}

function cgroupDirsOf(cgroupPath: string): string[] {
  return cgroupMounts()
    .map((m) => join(m.mountPoint, cgroupPath))
    .filter((dir) => existsSync(dir));
}

function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .filter((mountPoint) => mountPoint === dir || mountPoint.startsWith(`${dir}/`));
}

function processesMentioning(dir: string): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, "utf8");
        const zombie = stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
        return !zombie && readFileSync(`/proc/${name}/cmdline`, "utf8").includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function interfaceExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}
