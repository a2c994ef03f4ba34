/**
 * Volumes, networks, published ports and image digests through the engine
 * driver on both real engines: data in a named volume outlives its container,
 * containers on one user network find each other by name while others cannot,
 * the engines refuse to remove what is in use, and a container reports the
 * registry digest of the image it runs.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import { describeEachEngine } from "@fleet/test/harness/engines";
import { registryManifestDigest, startRegistry, type TestRegistry } from "@fleet/test/harness/registry";
import { buildTestImage, TEST_IMAGE_TAG, tarArchive } from "@fleet/test/harness/test-image";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ContainerDriver, ManagedContainer } from "../container-driver";
import { isDriverError } from "../driver";
import { makeContainerSpec } from "../fake/container-spec-factory";
import { EngineDriver } from "./engine-driver";

const HOST_ID = "host-vn";
const MiB = 1024 * 1024;

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
});

function unique(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString("hex")}`;
}

function spec(overrides: Parameters<typeof makeContainerSpec>[0]) {
  return makeContainerSpec({ image: TEST_IMAGE_TAG, ...overrides });
}

async function outputOf(driver: ContainerDriver, engineId: string): Promise<string> {
  const lines: string[] = [];
  for await (const line of driver.logs(engineId, { tail: -1, follow: false, stdout: true, stderr: true })) {
    lines.push(line.line);
  }
  return lines.join("\n");
}

/** Starts a one-shot container, waits for its exit and removes it; resolves to its exit code and output. */
async function runToExit(
  driver: ContainerDriver,
  overrides: Parameters<typeof makeContainerSpec>[0],
): Promise<{ exitCode: number; output: string }> {
  const c = await driver.start({ spec: spec(overrides), hostId: HOST_ID, specHash: "h" });
  try {
    const { exitCode } = await driver.wait(c.engineId);
    return { exitCode, output: await outputOf(driver, c.engineId) };
  } finally {
    await driver.destroy(c.engineId);
  }
}

/** The HTTP body served at `url`, or the error's code. */
function httpGet(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 5_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve(body));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err: NodeJS.ErrnoException) => resolve(`error: ${err.code ?? err.message}`));
  });
}

/** httpd serving `text` at / on port 8080 (busybox's httpd needs a directory with the file). */
function serving(text: string): string[] {
  return ["sh", "-c", `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 8080 -h /www`];
}

/**
 * busybox's nslookup against the first nameserver, asking for the bare name
 * as a glibc resolver does once the search domains failed. Without a server
 * busybox only tries `name.<search domain>`, which Podman's aardvark-dns
 * answers only on the network the name is on, and Podman lists one
 * nameserver per network in no fixed order.
 */
function nslookup(name: string): string {
  return `nslookup ${name} $(awk '/^nameserver/ { print $2; exit }' /etc/resolv.conf)`;
}

/**
 * Resolves `name` with busybox's own resolver (the static busybox's libc
 * resolver crashes), then fetches / from it by IP with nc; retries while the
 * other container comes up.
 */
function fetchByName(name: string): string[] {
  const script = [
    "i=0",
    "while [ $i -lt 20 ]; do",
    `  ip=$(${nslookup(name)} 2>/dev/null | sed -n 's/^Address:[[:space:]]*\\([0-9][0-9.]*\\)$/\\1/p' | tail -n 1)`,
    `  if [ -n "$ip" ]; then body=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 5 nc $ip 8080 | tail -n 1); fi`,
    '  if [ -n "$body" ]; then echo "resolved=$ip body=$body"; exit 0; fi',
    "  i=$((i+1)); sleep 0.5",
    "done",
    'echo "unresolved ip=$ip"',
    "exit 1",
  ].join("\n");
  return ["sh", "-c", script];
}

describeEachEngine(
  "EngineDriver volumes, networks and digests",
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

    it("keeps a named volume's data across the container's replacement; ro refuses writes; tmpfs has its size", async () => {
      const volume = unique("data");
      const mount = { type: "volume" as const, source: volume, target: "/data", readOnly: false };
      const writer = await runToExit(driver.containers, {
        command: ["sh", "-c", "echo kept-across-replacement > /data/file && cat /data/file"],
        mounts: [mount],
      });
      expect(writer).toEqual({ exitCode: 0, output: "kept-across-replacement" });
      // Created on demand, labelled as Fleet's.
      const created = (await driver.hostObjects.list("volume")).find((v) => v.name === volume);
      expect(created).toMatchObject({ name: volume, labels: { "fleet.managed": "true" } });

      const replacement = await runToExit(driver.containers, {
        command: ["cat", "/data/file"],
        mounts: [mount],
      });
      expect(replacement).toEqual({ exitCode: 0, output: "kept-across-replacement" });

      const readOnly = await runToExit(driver.containers, {
        command: ["sh", "-c", "cat /data/file; echo changed > /data/file; echo rc=$?"],
        mounts: [{ ...mount, readOnly: true }],
      });
      // stdout and stderr interleave in no fixed order.
      expect(readOnly.output).toMatch(/^kept-across-replacement$/m);
      expect(readOnly.output).toMatch(/Read-only file system/);
      expect(readOnly.output).toMatch(/^rc=1$/m);

      const tmpfs = await runToExit(driver.containers, {
        command: ["sh", "-c", "df -k /scratch | tail -n 1"],
        mounts: [{ type: "tmpfs", target: "/scratch", sizeBytes: 16 * MiB }],
      });
      expect(tmpfs.exitCode).toBe(0);
      // Filesystem, 1K-blocks, Used, Available, Use%, Mounted on.
      expect(tmpfs.output.split(/\s+/).slice(0, 2)).toEqual(["tmpfs", "16384"]);
      await driver.hostObjects.remove("volume", volume);
    });

    it("lets containers on one network reach each other by name; a container on another cannot resolve it", async () => {
      const shared = unique("net-n");
      const other = unique("net-m");
      const extra = unique("net-x");
      const alpha = spec({ name: unique("alpha"), command: serving("hello-from-alpha"), networks: [shared] });
      const server = await driver.containers.start({ spec: alpha, hostId: HOST_ID, specHash: "h" });
      try {
        // Joins `shared` as its second network: the connect-before-start path.
        const beta = await runToExit(driver.containers, {
          command: fetchByName(alpha.name),
          networks: [extra, shared],
        });
        expect(beta.output).toMatch(/^resolved=\d+\.\d+\.\d+\.\d+ body=hello-from-alpha$/m);
        expect(beta.exitCode).toBe(0);

        const gamma = await runToExit(driver.containers, {
          command: ["sh", "-c", `${nslookup(alpha.name)}; echo rc=$?`],
          networks: [other],
        });
        expect(gamma.output).toMatch(/rc=[1-9]\d*$/);
        expect(gamma.output).not.toMatch(/^Name:\s/m);

        const names = (await driver.hostObjects.list("network")).map((n) => n.name);
        expect(names).toEqual(expect.arrayContaining([shared, other, extra]));
      } finally {
        await driver.containers.destroy(server.engineId);
        // Best effort: a failure here must not hide the test's own (removal is tested below).
        for (const name of [shared, other, extra])
          await driver.hostObjects.remove("network", name).catch(() => undefined);
      }
    });

    it("lists volumes with sizes and networks, and refuses to remove them while used (conflict)", async () => {
      const volume = unique("vol");
      const created = await driver.hostObjects.create("volume", { name: volume });
      expect(created).toMatchObject({ name: volume, driver: "local", sizeBytes: 0 });
      expect(await driver.hostObjects.create("volume", { name: volume })).toMatchObject({ name: volume });

      const network = unique("net");
      const net = await driver.hostObjects.create("network", { name: network, internal: true });
      expect(net).toMatchObject({ name: network, driver: "bridge", internal: true });
      expect(net.id).toMatch(/^[0-9a-f]{12,64}$/);
      expect(net.subnet).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
      const duplicate = await driver.hostObjects
        .create("network", { name: network, internal: false })
        .catch((e: unknown) => e);
      expect(isDriverError(duplicate, "conflict")).toBe(true);
      expect((await driver.hostObjects.list("network")).find((n) => n.name === network)).toEqual(net);

      const user = await driver.containers.start({
        spec: spec({
          command: ["sh", "-c", "head -c 300000 /dev/zero > /data/blob && sleep 300"],
          mounts: [{ type: "volume", source: volume, target: "/data", readOnly: false }],
          networks: [network],
        }),
        hostId: HOST_ID,
        specHash: "h",
      });
      let userGone = false;
      try {
        await expect
          .poll(
            async () => (await driver.hostObjects.list("volume")).find((v) => v.name === volume)?.sizeBytes,
            {
              timeout: 20_000,
            },
          )
          .toBeGreaterThanOrEqual(300_000);

        const volumeInUse = await driver.hostObjects.remove("volume", volume).catch((e: unknown) => e);
        expect(isDriverError(volumeInUse, "conflict")).toBe(true);
        expect((volumeInUse as Error).message).toMatch(
          new RegExp(`^remove volume ${volume} failed: .*(in use|being used)`),
        );
        const networkInUse = await driver.hostObjects.remove("network", network).catch((e: unknown) => e);
        expect(isDriverError(networkInUse, "conflict")).toBe(true);
        expect((networkInUse as Error).message).toMatch(new RegExp(`^remove network ${network} failed: `));

        // A stopped container still holds its volume.
        await driver.containers.stop(user.engineId, 0);
        await expect(driver.hostObjects.remove("volume", volume)).rejects.toMatchObject({ code: "conflict" });

        await driver.containers.destroy(user.engineId);
        userGone = true;
        await driver.hostObjects.remove("volume", volume);
        await driver.hostObjects.remove("network", network);
        expect((await driver.hostObjects.list("volume")).map((v) => v.name)).not.toContain(volume);
        expect((await driver.hostObjects.list("network")).map((n) => n.name)).not.toContain(network);
        await expect(driver.hostObjects.remove("volume", volume)).rejects.toMatchObject({
          code: "not-found",
        });
        await expect(driver.hostObjects.remove("network", network)).rejects.toMatchObject({
          code: "not-found",
        });
      } finally {
        if (!userGone) await driver.containers.destroy(user.engineId);
      }
    });

    it("reports the registry digest of a pulled image, none for a local build, and engine-picked host ports", async () => {
      const repository = `fleet-test/digest-${kind}`;
      const reference = `${registry.host}/${repository}:1`;
      const context = tarArchive([
        {
          path: "Dockerfile",
          content: Buffer.from(`FROM ${TEST_IMAGE_TAG}\nRUN echo ${kind}-${Date.now()} > /marker\n`),
          mode: 0o644,
        },
      ]);
      // As on a real host: the engine holds only what it pulled, not its own build of it.
      const { imageId } = await driver.images.buildImage(context, { tag: reference });
      await driver.images.pushImage(reference);
      await driver.images.removeImage(imageId, { force: true });
      await driver.images.pullImage(reference);
      const registryDigest = await registryManifestDigest(registry, repository, "1");
      expect(registryDigest).toMatch(/^sha256:[0-9a-f]{64}$/);

      const network = unique("ports");
      const pulled = await driver.containers.start({
        spec: spec({
          image: reference,
          command: serving("published"),
          // Docker here runs without a default bridge: published ports need a user network.
          networks: [network],
          ports: [{ containerPort: 8080, protocol: "tcp" }],
        }),
        hostId: HOST_ID,
        specHash: "h",
      });
      const local = await driver.containers.start({
        spec: spec({ command: ["sleep", "300"] }),
        hostId: HOST_ID,
        specHash: "h",
      });
      try {
        expect(pulled.imageDigest).toBe(registryDigest);
        expect((await driver.containers.inspect(pulled.engineId))?.imageDigest).toBe(registryDigest);
        const adopted = (await driver.containers.recover()).find((c) => c.engineId === pulled.engineId);
        expect(adopted?.imageDigest).toBe(registryDigest);

        expectLocalBuildDigest(local);

        expect(pulled.publishedPorts.length).toBeGreaterThan(0);
        const [first] = pulled.publishedPorts;
        expect(first).toMatchObject({ containerPort: 8080, protocol: "tcp", hostIp: "0.0.0.0" });
        expect(first?.hostPort).toBeGreaterThan(0);
        await expect
          .poll(() => httpGet(`http://127.0.0.1:${first?.hostPort}/`), { timeout: 20_000 })
          .toBe("published\n");

        await driver.containers.stop(pulled.engineId, 0);
        expect((await driver.containers.inspect(pulled.engineId))?.publishedPorts).toEqual([]);
      } finally {
        await driver.containers.destroy(pulled.engineId);
        await driver.containers.destroy(local.engineId);
        await driver.hostObjects.remove("network", network);
      }

      function expectLocalBuildDigest(c: ManagedContainer): void {
        if (kind === "docker") {
          // Docker lists RepoDigests only for images that came from or went to a registry.
          expect(c.imageDigest).toBeNull();
        } else {
          // Podman lists its own manifest digest for a local build too; its API cannot tell them apart.
          expect(c.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
        }
      }
    });
  },
  () => ({ insecureRegistries: [registry.host] }),
);
