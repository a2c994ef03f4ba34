import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeDesired } from "@fleet/shared/protocol/test-factories";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chooseAuth, StateStore, StateStoreError } from "./state-store";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fleet-state-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("StateStore", () => {
  it("has no credential in an empty (or missing) dir", async () => {
    expect(await new StateStore(join(dir, "missing")).loadCredential()).toBeNull();
  });

  it("stores the credential with mode 0600 and reads it back", async () => {
    const store = new StateStore(join(dir, "state"));
    const credential = { serverUrl: "http://127.0.0.1:3000", hostId: "host_1", credential: "secret" };
    await store.saveCredential(credential);
    expect(await store.loadCredential()).toEqual({ ...credential, serverPin: null });
    expect((await stat(store.credentialPath)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, "state"))).toEqual(["credential.json"]);
  });

  it("replaces the credential atomically", async () => {
    const store = new StateStore(dir);
    await store.saveCredential({ serverUrl: "http://a:1", hostId: "h1", credential: "one" });
    await store.saveCredential({ serverUrl: "http://a:1", hostId: "h1", credential: "two" });
    expect(JSON.parse(await readFile(store.credentialPath, "utf8")).credential).toBe("two");
    expect(await readdir(dir)).toEqual(["credential.json"]);
  });

  it("refuses a damaged credential file with a clear message", async () => {
    const store = new StateStore(dir);
    await writeFile(store.credentialPath, "{not json");
    await expect(store.loadCredential()).rejects.toThrow(/credential.json is not valid JSON/);
    await writeFile(store.credentialPath, JSON.stringify({ hostId: "x" }));
    await expect(store.loadCredential()).rejects.toBeInstanceOf(StateStoreError);
  });

  it("keeps the last desired snapshot and ignores a damaged one", async () => {
    const store = new StateStore(dir);
    expect(await store.loadDesired()).toBeNull();
    const desired = makeDesired({ generation: 12 });
    await store.saveDesired(desired);
    expect(await store.loadDesired()).toEqual(desired);
    await writeFile(store.desiredPath, "garbage");
    expect(await store.loadDesired()).toBeNull();
  });
});

describe("chooseAuth", () => {
  const stored = { serverUrl: "https://central:8443", hostId: "h1", credential: "cred", serverPin: null };

  it("uses the stored credential for the same server, even with a join token", () => {
    const result = chooseAuth(stored, { serverUrl: "wss://central:8443/", joinToken: "jt" }, dir);
    expect(result).toEqual({ auth: { kind: "credential", hostId: "h1", credential: "cred" }, warning: null });
  });

  it("joins with the token when there is no credential", () => {
    expect(chooseAuth(null, { serverUrl: "http://x:1", joinToken: "jt" }, dir).auth).toEqual({
      kind: "join",
      joinToken: "jt",
    });
  });

  it("prefers the join token when the credential belongs to another server", () => {
    expect(chooseAuth(stored, { serverUrl: "http://other:1", joinToken: "jt" }, dir).auth.kind).toBe("join");
  });

  it("tries another server's credential with a warning when there is no token", () => {
    const result = chooseAuth(stored, { serverUrl: "http://other:1", joinToken: null }, dir);
    expect(result.auth.kind).toBe("credential");
    expect(result.warning).toMatch(/issued by https:\/\/central:8443/);
  });

  it("explains what is missing when there is neither", () => {
    expect(() =>
      chooseAuth(null, { serverUrl: "http://x:1", joinToken: null }, "/var/lib/fleet-agent"),
    ).toThrow(/no host credential in \/var\/lib\/fleet-agent and no join token: pass --join-token/);
  });
});
