import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, expect, test } from "vitest";
import { loadAgentTlsIdentity } from "./tls-identity";

let dir: string;
let lines: { level: number; msg: string }[];
const log = () => pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
const load = () => loadAgentTlsIdentity({ env: { FLEET_DATA_DIR: dir }, log: log() });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fleet-tls-identity-"));
  lines = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("made once, then the same key and pin on every load", async () => {
  const first = load();
  expect(first.pinned).toBe(true);
  expect(first.pin).toMatch(/^sha256\/\/[A-Za-z0-9+/]{43}=$/);
  expect((await stat(join(dir, "tls", "key.pem"))).mode & 0o777).toBe(0o600);
  expect(load()).toEqual(first);
});

test("a missing or foreign certificate is made again for the same key: the pin stays", async () => {
  const first = load();
  await rm(join(dir, "tls", "cert.pem"));
  expect(load().pin).toBe(first.pin);
  await writeFile(join(dir, "tls", "cert.pem"), "not a certificate");
  expect(load().pin).toBe(first.pin);
});

test("a key others can read is closed to 0600, with a warning", async () => {
  load();
  await chmod(join(dir, "tls", "key.pem"), 0o644);
  load();
  expect((await stat(join(dir, "tls", "key.pem"))).mode & 0o777).toBe(0o600);
  expect(lines.some((line) => line.level === 40 && /readable by others/.test(line.msg))).toBe(true);
});

test("a lost key means a new pin, and the log says hosts must be installed again", async () => {
  const first = load();
  await rm(join(dir, "tls", "key.pem"));
  const second = load();
  expect(second.pin).not.toBe(first.pin);
  expect(lines.some((line) => /Hosts pinned to the old key refuse this central/.test(line.msg))).toBe(true);
  expect(await readFile(join(dir, "tls", "key.pem"), "utf8")).toContain("PRIVATE KEY");
});
