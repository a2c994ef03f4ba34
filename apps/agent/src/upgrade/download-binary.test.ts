// The upgrade download against an in-process HTTPS server with a self-signed
// key: only the announced sha256, over the pinned key, becomes the file.
import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serverPinOfCertificate } from "@fleet/shared/server-pin";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { downloadVerifiedBinary, UpgradeRefusedError } from "./download-binary";

const BINARY = Buffer.from("#!/bin/sh\necho new agent\n");
const SHA = createHash("sha256").update(BINARY).digest("hex");

let server: Server;
let serverUrl: string;
let pin: string;
let otherPin: string;
let requests: string[];
let dir: string;

function selfSigned(at: string, name: string): { key: string; cert: string } {
  const key = join(at, `${name}.key`);
  const cert = join(at, `${name}.crt`);
  const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  args.push("-keyout", key, "-out", cert, "-days", "1", "-subj", `/CN=${name}`);
  execFileSync("openssl", args, { stdio: "pipe" });
  return { key: execFileSync("cat", [key]).toString(), cert: execFileSync("cat", [cert]).toString() };
}

beforeAll(async () => {
  const pki = await mkdtemp(join(tmpdir(), "fleet-upgrade-pki-"));
  const ours = selfSigned(pki, "central");
  const other = selfSigned(pki, "impostor");
  await rm(pki, { recursive: true, force: true });
  pin = serverPinOfCertificate(new X509Certificate(ours.cert));
  otherPin = serverPinOfCertificate(new X509Certificate(other.cert));
  server = createServer({ key: ours.key, cert: ours.cert }, (req, res) => {
    requests.push(req.url ?? "");
    if (req.url === "/base/download/fleet-agent-linux-x64") res.end(BINARY);
    else {
      res.statusCode = 404;
      res.end("no");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  serverUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/base`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(async () => {
  requests = [];
  dir = await mkdtemp(join(tmpdir(), "fleet-upgrade-"));
  return () => rm(dir, { recursive: true, force: true });
});

const options = (over: Partial<Parameters<typeof downloadVerifiedBinary>[0]> = {}) => ({
  serverUrl,
  serverPin: pin,
  caPem: null,
  sha256: SHA,
  destination: join(dir, "fleet-agent.new"),
  timeoutMs: 5000,
  ...over,
});

describe("downloadVerifiedBinary", () => {
  it("writes the announced binary, executable, over the pinned key", async () => {
    await expect(downloadVerifiedBinary(options())).resolves.toEqual({ bytes: BINARY.length });
    const path = join(dir, "fleet-agent.new");
    expect(await readFile(path)).toEqual(BINARY);
    expect((await stat(path)).mode & 0o777).toBe(0o755);
    expect(await readdir(dir)).toEqual(["fleet-agent.new"]);
  });

  it("refuses a binary whose sha256 is not the announced one and leaves nothing", async () => {
    await expect(downloadVerifiedBinary(options({ sha256: "0".repeat(64) }))).rejects.toThrow(
      /hashes to .* not the expected 0{64}: refused, nothing replaced/,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it("sends nothing to a server whose key is not the pinned one (a man in the middle)", async () => {
    await expect(downloadVerifiedBinary(options({ serverPin: otherPin }))).rejects.toThrow(/not the pinned/);
    expect(requests).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  it("unpinned, refuses a certificate no CA vouches for", async () => {
    await expect(downloadVerifiedBinary(options({ serverPin: null }))).rejects.toThrow(/self-signed/);
    expect(requests).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  it("refuses plain http (pinned or not), an oversized body, a non-200 and a malformed sha256", async () => {
    for (const serverPin of [pin, null]) {
      await expect(
        downloadVerifiedBinary(options({ serverUrl: serverUrl.replace("https:", "http:"), serverPin })),
      ).rejects.toThrow(UpgradeRefusedError);
    }
    await expect(downloadVerifiedBinary(options({ maxBytes: 4 }))).rejects.toThrow(/more than 4 bytes/);
    await expect(downloadVerifiedBinary(options({ serverUrl: `${serverUrl}/elsewhere` }))).rejects.toThrow(
      /answered 404/,
    );
    await expect(downloadVerifiedBinary(options({ sha256: "xyz" }))).rejects.toThrow(/64 hex/);
    expect(await readdir(dir)).toEqual([]);
  });
});
