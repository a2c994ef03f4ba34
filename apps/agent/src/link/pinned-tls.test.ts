// An agent that pins the central's key, against an in-process central over
// TLS with a self-signed certificate (made with openssl, as a test fixture):
// the right key connects and is remembered with the credential; any other
// key is refused before a single byte of HTTP, hello or token is sent.
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { serverPinOfCertificate } from "@fleet/shared/server-pin";
import { pino } from "pino";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Agent } from "../agent";
import { FakeDriver } from "../runtime/fake/fake-driver";
import { StateStore, StateStoreError } from "../state-store";
import { FakeCentral } from "../testing/fake-central";

let pki: { key: string; cert: string; pin: string; otherPin: string };
let stateDir: string;
let central: FakeCentral;
/** Bytes each TLS connection carried from the agent after its handshake. */
let received: number[];
const agents: Agent[] = [];

function selfSigned(dir: string, name: string): { key: string; cert: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      `/CN=${name}`,
    ],
    { stdio: "pipe" },
  );
  return { key: execFileSync("cat", [key]).toString(), cert: execFileSync("cat", [cert]).toString() };
}

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), "fleet-pin-pki-"));
  const ours = selfSigned(dir, "central");
  const other = selfSigned(dir, "impostor");
  await rm(dir, { recursive: true, force: true });
  pki = {
    ...ours,
    pin: serverPinOfCertificate(new X509Certificate(ours.cert)),
    otherPin: serverPinOfCertificate(new X509Certificate(other.cert)),
  };
});

beforeEach(async () => {
  received = [];
  central = new FakeCentral({
    joinTokens: ["jt-pin"],
    hostId: "host_pin",
    tls: { key: pki.key, cert: pki.cert },
    onTlsConnection: (socket: TLSSocket) => {
      const index = received.push(0) - 1;
      socket.on("data", (chunk: Buffer) => {
        received[index] = (received[index] ?? 0) + chunk.length;
      });
    },
  });
  await central.start();
  stateDir = await mkdtemp(join(tmpdir(), "fleet-pin-agent-"));
});

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop()));
  await central.stop();
  await rm(stateDir, { recursive: true, force: true });
});

function startAgent(config: { serverPin?: string | null; joinToken?: string | null; serverUrl?: string }) {
  const lines: { level: number; msg: string; [key: string]: unknown }[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const agent = new Agent({
    config: {
      serverUrl: config.serverUrl ?? central.url,
      serverPin: config.serverPin ?? null,
      joinToken: config.joinToken === undefined ? "jt-pin" : config.joinToken,
      name: "pinned-1",
      labels: {},
      metricsIntervalMs: 5000,
      reserveCpuMillis: 100,
      reserveMemoryBytes: 256 * 1024 * 1024,
    },
    driver: new FakeDriver(),
    store: new StateStore(stateDir),
    log,
    agentVersion: "9.9.9",
    linkTuning: { reconnectInitialMs: 50, reconnectMaxMs: 200 },
  });
  agents.push(agent);
  return { agent, lines };
}

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("a pinned central", () => {
  it("with the pinned key: connects though the certificate is self-signed, and stores the pin with the credential", async () => {
    const { agent } = startAgent({ serverPin: pki.pin });
    await agent.start();
    await until(() => agent.isConnected, "the welcome");
    expect(central.hellos).toEqual([{ kind: "join", joinToken: "jt-pin" }]);
    const stored = JSON.parse(await readFile(join(stateDir, "credential.json"), "utf8"));
    expect(stored).toMatchObject({ hostId: "host_pin", serverPin: pki.pin });
  });

  it("with another key: sends nothing, not even the upgrade request, and says why", async () => {
    const { agent, lines } = startAgent({ serverPin: pki.otherPin });
    await agent.start();
    const refusals = () => lines.filter((line) => line.msg.startsWith("REFUSED THE CENTRAL"));
    await until(() => refusals().length >= 2, "two refused attempts");
    expect(agent.isConnected).toBe(false);
    expect(central.hellos).toEqual([]);
    expect(central.frames).toEqual([]);
    // The TLS handshake ends the agent's part: not one byte of application data follows.
    await new Promise((r) => setTimeout(r, 100));
    expect(received.every((bytes) => bytes === 0)).toBe(true);
    const refusal = refusals()[0];
    expect(refusal).toMatchObject({ pinned: pki.otherPin, presented: pki.pin });
    expect(refusal?.msg).toMatch(/Refused: nothing was sent to it \(not the join token/);
    await expect(new StateStore(stateDir).loadCredential()).resolves.toBeNull();
  });

  it("later starts keep pinning with the stored pin, without --server-pin", async () => {
    const first = startAgent({ serverPin: pki.pin });
    await first.agent.start();
    await until(() => first.agent.isConnected, "the join");
    await first.agent.stop();

    // Same credential, no pin given: the stored one still refuses an impostor.
    const store = new StateStore(stateDir);
    const stored = await store.loadCredential();
    await store.saveCredential({ ...(stored as NonNullable<typeof stored>), serverPin: pki.otherPin });
    const second = startAgent({ serverPin: null, joinToken: null });
    await second.agent.start();
    await until(() => second.lines.some((l) => l.msg.startsWith("REFUSED THE CENTRAL")), "the refusal");
    expect(central.hellos.filter((h) => h.kind === "credential")).toEqual([]);
  });

  it("a pin given later for a credential that had none is stored once the central proved to hold the key", async () => {
    await new StateStore(stateDir).saveCredential({
      serverUrl: central.url,
      hostId: "host_pin",
      credential: "cred-old",
    });
    central.credentials.set("host_pin", "cred-old");
    const { agent } = startAgent({ serverPin: pki.pin, joinToken: null });
    await agent.start();
    await until(() => agent.isConnected, "the welcome");
    const stored = await new StateStore(stateDir).loadCredential();
    expect(stored).toMatchObject({ credential: "cred-old", serverPin: pki.pin });
  });

  it("a stored pin refuses a plain http:// server URL instead of trusting it", async () => {
    await new StateStore(stateDir).saveCredential({
      serverUrl: central.url,
      hostId: "host_pin",
      credential: "cred-x",
      serverPin: pki.pin,
    });
    const { agent } = startAgent({ serverUrl: central.url.replace("https:", "http:"), joinToken: null });
    await expect(agent.start()).rejects.toBeInstanceOf(StateStoreError);
  });
});
