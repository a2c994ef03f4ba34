// The agent port of a real central: its own key kept in the data dir (0600,
// the same after a restart), the install script filled in for this central,
// the downloads, and what an attacker might try on each: other paths, path
// climbing, the dashboard's routes, a wrong pin.

import { execFile, spawnSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { serverPinOfCertificate } from "@fleet/shared/server-pin";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { makeTestCertificate } from "@fleet/test/harness/test-certificate";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestUserWithToken } from "../testing/factories";
import { createTestClient, startTestServer, type TestServer } from "../testing/test-server";

describe("the agent port", () => {
  const database = useTestDatabase();
  let dataDir: string;
  let downloads: string;
  let server: TestServer;
  /** curl in a child process, without blocking the server this process runs. */
  function curl(args: string[]): Promise<{ status: number | null; stdout: string }> {
    return new Promise((resolve) => {
      execFile("curl", args, { encoding: "utf8" }, (error, stdout) =>
        resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout }),
      );
    });
  }

  const agentBytes = Buffer.from("#!/bin/sh\necho pretend agent\n");
  const agentSha = createHash("sha256").update(agentBytes).digest("hex");

  interface Answer {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
    pin: string | null;
  }

  /** A request to the agent port that trusts any certificate and reports the key it saw. */
  function get(url: string, method = "GET"): Promise<Answer> {
    // The path goes out as written: a URL object would resolve `..` and `.` first.
    const { hostname, port } = new URL(url);
    const path = url.slice(url.indexOf("/", "https://".length));
    return new Promise((resolve, reject) => {
      const req = request({ hostname, port, path, method, rejectUnauthorized: false }, (res) => {
        const chunks: Buffer[] = [];
        const cert = (res.socket as TLSSocket).getPeerX509Certificate();
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            pin: cert ? serverPinOfCertificate(cert) : null,
          }),
        );
      });
      req.on("error", reject);
      req.end();
    });
  }

  async function start(): Promise<TestServer> {
    return startTestServer({
      databaseUrl: database().url,
      env: {
        FLEET_DATA_DIR: dataDir,
        FLEET_DOWNLOADS_DIR: downloads,
        HOST: "127.0.0.1",
        FLEET_PUBLIC_URL: "http://127.0.0.1:3000",
      },
    });
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "fleet-agent-port-data-"));
    downloads = await mkdtemp(join(tmpdir(), "fleet-agent-port-dist-"));
    await writeFile(join(downloads, "fleet-agent-linux-x64"), agentBytes);
    await writeFile(join(downloads, "fleet-agent-linux-x64.sha256"), `${agentSha}  fleet-agent-linux-x64\n`);
    server = await start();
  });

  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(downloads, { recursive: true, force: true });
  });

  describe("the agent port's key", () => {
    test("is made at first start in the data dir, 0600, and serves a self-signed certificate with that pin", async () => {
      const keyPath = join(dataDir, "tls", "key.pem");
      expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
      expect((await stat(join(dataDir, "tls"))).mode & 0o777).toBe(0o700);
      const cert = new X509Certificate(await readFile(join(dataDir, "tls", "cert.pem")));
      expect(server.fleet.agentEndpoint.pin).toBe(serverPinOfCertificate(cert));
      expect((await get(`${server.fleet.agentUrl}/install.sh`)).pin).toBe(server.fleet.agentEndpoint.pin);
    });

    test("is reused by the next start (hosts keep their pin)", async () => {
      const pin = server.fleet.agentEndpoint.pin;
      await server.close();
      server = await start();
      expect(server.fleet.agentEndpoint.pin).toBe(pin);
      expect((await get(`${server.fleet.agentUrl}/install.sh`)).pin).toBe(pin);
    });

    test("curl connects with the pin and refuses another, before any request", async () => {
      const url = `${server.fleet.agentUrl}/install.sh`;
      const pin = server.fleet.agentEndpoint.pin as string;
      const right = await curl(["-fsSk", "--pinnedpubkey", pin, url]);
      expect(right.status).toBe(0);
      const other = `sha256//${createHash("sha256").update("another key").digest("base64")}`;
      const wrong = await curl(["-fsSk", "--pinnedpubkey", other, url]);
      expect(wrong.status).toBe(90); // CURLE_SSL_PINNEDPUBKEYNOTMATCH
      expect(wrong.stdout).toBe("");
    });
  });

  describe("GET /install.sh", () => {
    test("is the script with this central's agent URL, pin and the agent's sha256, and passes sh -n (and shellcheck)", async () => {
      const answer = await get(`${server.fleet.agentUrl}/install.sh`);
      expect(answer.status).toBe(200);
      expect(answer.headers["cache-control"]).toBe("no-store");
      const script = answer.body.toString();
      const { publicUrl, pin } = server.fleet.agentEndpoint;
      expect(publicUrl).toBe(`https://127.0.0.1:${new URL(server.fleet.agentUrl).port}`);
      expect(script).toContain(`\nSERVER_URL='${publicUrl}'\n`);
      expect(script).toContain(`\nSERVED_PIN='${pin}'\n`);
      expect(script).toContain(`\nAGENT_SHA256='${agentSha}'\n`);
      expect(script).not.toContain("{{");
      const path = join(downloads, "rendered-install.sh");
      await writeFile(path, script);
      expect(spawnSync("sh", ["-n", path], { encoding: "utf8" }).status).toBe(0);
      if (spawnSync("shellcheck", ["--version"]).status === 0) {
        const lint = spawnSync("shellcheck", ["-s", "sh", path], { encoding: "utf8" });
        expect(lint.stdout).toBe("");
      }
      await rm(path);
    });

    test("holds no secret: the join token travels as an argument on the host, never in the script", async () => {
      const script = (await get(`${server.fleet.agentUrl}/install.sh`)).body.toString();
      expect(script).not.toMatch(/fleet_join_[A-Za-z0-9]/);
      expect(script).not.toMatch(/PRIVATE KEY/);
    });

    test("without a built agent: a script that fails saying to run npm run build", async () => {
      const empty = await mkdtemp(join(tmpdir(), "fleet-agent-port-empty-"));
      const other = await startTestServer({
        databaseUrl: database().url,
        env: { FLEET_DOWNLOADS_DIR: empty },
      });
      try {
        const script = (await get(`${other.fleet.agentUrl}/install.sh`)).body.toString();
        const run = spawnSync("sh", ["-s"], { input: script, encoding: "utf8" });
        expect(run.status).toBe(1);
        expect(run.stderr).toMatch(/fleet-agent-linux-x64 is not built on this central .*npm run build/);
        const download = await get(`${other.fleet.agentUrl}/download/fleet-agent-linux-x64`);
        expect(download.status).toBe(404);
        expect(download.body.toString()).toMatch(/run `npm run build`/);
      } finally {
        await other.close();
        await rm(empty, { recursive: true, force: true });
      }
    });
  });

  describe("GET /download/*", () => {
    test("streams the agent and its sha256sum line; HEAD gives the length only", async () => {
      const agent = await get(`${server.fleet.agentUrl}/download/fleet-agent-linux-x64`);
      expect(agent.status).toBe(200);
      expect(agent.body.equals(agentBytes)).toBe(true);
      expect(agent.headers["content-type"]).toBe("application/octet-stream");
      const sum = await get(`${server.fleet.agentUrl}/download/fleet-agent-linux-x64.sha256`);
      expect(sum.body.toString()).toBe(`${agentSha}  fleet-agent-linux-x64\n`);
      const head = await get(`${server.fleet.agentUrl}/download/fleet-agent-linux-x64`, "HEAD");
      expect(head.headers["content-length"]).toBe(String(agentBytes.length));
      expect(head.body.length).toBe(0);
    });

    test("the CLI not built: 404 saying so", async () => {
      const cli = await get(`${server.fleet.agentUrl}/download/fleet-linux-x64`);
      expect(cli.status).toBe(404);
      expect(cli.body.toString()).toMatch(/fleet-linux-x64 is not built/);
    });

    test("a checksum file that is not one sha256sum line is refused, not passed on", async () => {
      await writeFile(join(downloads, "fleet-linux-x64"), "cli");
      await writeFile(join(downloads, "fleet-linux-x64.sha256"), `${agentSha}  something-else\n`);
      const cli = await get(`${server.fleet.agentUrl}/download/fleet-linux-x64`);
      expect(cli.status).toBe(404);
      expect(cli.body.toString()).toMatch(/is not one "<sha256> {2}fleet-linux-x64" line/);
    });

    test.each([
      "/download/../package.json",
      "/download/..%2f..%2fpackage.json",
      "/download/%2e%2e/%2e%2e/package.json",
      "/download/fleet-agent-linux-x64/../../../etc/passwd",
      "/download/./fleet-agent-linux-x64",
      "/download/fleet-agent-linux-x64%00.sha256",
      "/download/.sha256",
      "/download/fleet-agent-linux-x64.sha256.sha256",
      "/download/rendered-install.sh",
      "/download/",
      "/download//etc/passwd",
    ])("%s is a 404 that serves no file", async (path) => {
      const answer = await get(`${server.fleet.agentUrl}${path}`);
      expect(answer.status).toBe(404);
      expect(answer.body.toString()).toMatch(/^no such download/);
    });

    test.each([
      "/",
      "/api/trpc/host.list",
      "/metrics",
      "/api/uploads",
      "/settings",
      "/install.sh/..",
      "/INSTALL.SH",
    ])("%s: the agent port serves nothing of the dashboard or API", async (path) => {
      const answer = await get(`${server.fleet.agentUrl}${path}`);
      expect(answer.status).toBe(404);
      expect(answer.body.toString()).toMatch(/^not found: this port serves \/agent/);
    });

    test("only GET and HEAD", async () => {
      expect((await get(`${server.fleet.agentUrl}/download/fleet-agent-linux-x64`, "POST")).status).toBe(405);
      expect((await get(`${server.fleet.agentUrl}/install.sh`, "DELETE")).status).toBe(405);
    });
  });

  test("joinToken.create shows the pinned install line for this central", async () => {
    const admin = await createTestUserWithToken({ db: server.db, role: "admin" });
    const client = createTestClient(server.url, { bearer: admin.token });
    const created = await client.joinToken.create.mutate({ labels: { zone: "b" } });
    const { publicUrl, pin } = server.fleet.agentEndpoint;
    expect(created.command).toBe(
      `curl -fsSLk --pinnedpubkey '${pin}' ${publicUrl}/install.sh | sudo sh -s -- --join-token ${created.token} --server-pin '${pin}' --label zone=b`,
    );
  });

  describe("with FLEET_TLS_CERT", () => {
    test("the agent port serves that certificate, and the install line validates it instead of pinning", async () => {
      const { certPath, keyPath, remove } = await makeTestCertificate("fleet-agent-port-ca-");
      const configured = await startTestServer({
        databaseUrl: database().url,
        env: { FLEET_TLS_CERT: certPath, FLEET_TLS_KEY: keyPath, FLEET_DOWNLOADS_DIR: downloads },
      });
      try {
        expect(configured.fleet.agentEndpoint.pin).toBeNull();
        const answer = await get(`${configured.fleet.agentUrl}/install.sh`);
        expect(answer.pin).toBe(serverPinOfCertificate(new X509Certificate(await readFile(certPath))));
        expect(answer.body.toString()).toContain("\nSERVED_PIN=''\n");
        const withCa = await curl(["-fsS", "--cacert", certPath, `${configured.fleet.agentUrl}/install.sh`]);
        expect(withCa.status).toBe(0);
        // The API is over that certificate too; the join command comes from the same endpoint.
        expect(configured.fleet.services.agentEndpoint).toEqual({
          publicUrl: `https://fleet.test:${new URL(configured.fleet.agentUrl).port}`,
          pin: null,
        });
      } finally {
        await configured.close();
        await remove();
      }
    });
  });
});
