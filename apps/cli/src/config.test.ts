import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import {
  configPath,
  loadCredentials,
  normalizeServerUrl,
  readConfigFile,
  removeConfigFile,
  writeConfigFile,
} from "./config";

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fleet-cli-config-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("configPath", () => {
  test("XDG_CONFIG_HOME when absolute, else ~/.config", () => {
    expect(configPath({ XDG_CONFIG_HOME: "/x/cfg", HOME: "/home/me" })).toBe("/x/cfg/fleet/config.json");
    expect(configPath({ HOME: "/home/me" })).toBe("/home/me/.config/fleet/config.json");
    expect(configPath({ XDG_CONFIG_HOME: "relative", HOME: "/home/me" })).toBe(
      "/home/me/.config/fleet/config.json",
    );
  });
});

describe("normalizeServerUrl", () => {
  test.each([
    ["http://central:3000/", "http://central:3000"],
    ["central:3000", "http://central:3000"],
    ["https://fleet.example.com/base/", "https://fleet.example.com/base"],
  ])("%s → %s", (input, url) => {
    expect(normalizeServerUrl(input)).toBe(url);
  });

  test("other schemes and queries are usage errors", () => {
    expect(() => normalizeServerUrl("ftp://x")).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => normalizeServerUrl("http://x/?a=1")).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});

describe("the config file", () => {
  test("written 0600 in a 0700 directory, read back", async () => {
    const path = join(dir, "fleet", "config.json");
    await writeConfigFile(path, { url: "http://c:3000", token: "fleet_api_x", tokenId: "t1" });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "fleet"))).mode & 0o777).toBe(0o700);
    expect(await readConfigFile(path)).toEqual({ url: "http://c:3000", token: "fleet_api_x", tokenId: "t1" });
    // Overwriting keeps the mode, even over a file someone made readable.
    await writeFile(path, "{}", { mode: 0o644 });
    await writeConfigFile(path, { url: "http://c:3000", token: "fleet_api_y" });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ url: "http://c:3000", token: "fleet_api_y" });
    expect(await removeConfigFile(path)).toBe(true);
    expect(await removeConfigFile(path)).toBe(false);
    expect(await readConfigFile(path)).toBeNull();
  });

  test("a broken file means logging in again (exit 3)", async () => {
    const path = join(dir, "config.json");
    await writeFile(path, "{not json");
    await expect(readConfigFile(path)).rejects.toMatchObject({ exitCode: 3 });
    await writeFile(path, JSON.stringify({ url: 1 }));
    await expect(readConfigFile(path)).rejects.toMatchObject({ exitCode: 3 });
  });
});

describe("loadCredentials", () => {
  test("FLEET_URL and FLEET_TOKEN override the file, each on its own", async () => {
    const path = join(dir, "config.json");
    expect(await loadCredentials({}, path)).toBeNull();
    expect(await loadCredentials({ FLEET_TOKEN: "t" }, path)).toBeNull();
    expect(await loadCredentials({ FLEET_URL: "central:1", FLEET_TOKEN: "t" }, path)).toEqual({
      url: "http://central:1",
      token: "t",
      source: "env",
    });
    await writeConfigFile(path, { url: "http://file:3000", token: "file-token" });
    expect(await loadCredentials({}, path)).toEqual({
      url: "http://file:3000",
      token: "file-token",
      source: "file",
    });
    expect(await loadCredentials({ FLEET_TOKEN: "env-token" }, path)).toEqual({
      url: "http://file:3000",
      token: "env-token",
      source: "env+file",
    });
  });
});
