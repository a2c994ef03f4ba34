import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { discoverEngine, socketPathFrom } from "./engine-discovery";

let dir: string;
const servers: http.Server[] = [];

/** A unix-socket HTTP server answering /_ping the way an engine (or not) does. */
async function listen(name: string, pingStatus: number): Promise<string> {
  const socketPath = join(dir, name);
  const server = http.createServer((req, res) => {
    res.statusCode = req.url === "/_ping" ? pingStatus : 404;
    res.end(pingStatus === 200 ? "OK" : "nope");
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  servers.push(server);
  return socketPath;
}

let healthy: string;
let broken: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fleet-discovery-"));
  healthy = await listen("healthy.sock", 200);
  broken = await listen("broken.sock", 500);
  await writeFile(join(dir, "plain-file"), "");
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await rm(dir, { recursive: true, force: true });
});

describe("discoverEngine", () => {
  it("takes the --engine flag in unix:// or plain form, before DOCKER_HOST", async () => {
    const env = { DOCKER_HOST: "unix:///nowhere.sock" };
    await expect(discoverEngine({ flag: `unix://${healthy}`, env })).resolves.toEqual({
      socketPath: healthy,
      source: "flag",
    });
    await expect(discoverEngine({ flag: healthy, env })).resolves.toMatchObject({ socketPath: healthy });
  });

  it("takes DOCKER_HOST when there is no flag, and refuses tcp", async () => {
    await expect(discoverEngine({ env: { DOCKER_HOST: `unix://${healthy}` } })).resolves.toEqual({
      socketPath: healthy,
      source: "DOCKER_HOST",
    });
    await expect(discoverEngine({ env: { DOCKER_HOST: "tcp://127.0.0.1:2375" } })).rejects.toThrow(
      /only unix sockets are supported/,
    );
  });

  it("fails clearly when the named socket does not answer", async () => {
    await expect(discoverEngine({ flag: broken, env: {} })).rejects.toThrow(
      `no container engine at ${broken} (from --engine): /_ping answered 500`,
    );
  });

  it("falls back to the first default socket that answers", async () => {
    const missing = join(dir, "missing.sock");
    const found = await discoverEngine({ env: {}, candidates: [missing, broken, healthy] });
    expect(found).toEqual({ socketPath: healthy, source: "default" });
  });

  it("lists what it tried when nothing answers", async () => {
    const missing = join(dir, "missing.sock");
    const plain = join(dir, "plain-file");
    const err = await discoverEngine({ env: {}, candidates: [missing, plain, broken] }).catch(
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`${missing} (does not exist)`);
    expect((err as Error).message).toContain(`${plain} (not a socket)`);
    expect((err as Error).message).toContain(`${broken} (/_ping answered 500)`);
  });
});

describe("socketPathFrom", () => {
  it("accepts unix URLs and absolute paths only", () => {
    expect(socketPathFrom("unix:///run/docker.sock", "x")).toBe("/run/docker.sock");
    expect(socketPathFrom("/run/docker.sock", "x")).toBe("/run/docker.sock");
    expect(() => socketPathFrom("ssh://host", "DOCKER_HOST")).toThrow(/only unix sockets are supported/);
    expect(() => socketPathFrom("docker.sock", "--engine")).toThrow(/not an absolute path/);
  });
});
