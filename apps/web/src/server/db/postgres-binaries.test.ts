import { mkdir, mkdtemp, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureLibraryLinks } from "./postgres-binaries";

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "fleet-pg-binaries-"));
  await mkdir(join(root, "native", "lib"), { recursive: true });
  await writeFile(join(root, "native", "lib", "libpq.so.5.18"), "");
  await writeFile(
    join(root, "native", "pg-symlinks.json"),
    JSON.stringify([
      { source: "native/lib/libpq.so.5.18", target: "native/lib/libpq.so" },
      { source: "native/lib/libpq.so.5.18", target: "native/lib/libpq.so.5" },
    ]),
  );
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("the PostgreSQL library links an install script would have made", () => {
  it("are made relative to their directory when missing, and left alone when present", async () => {
    expect(await ensureLibraryLinks(root)).toEqual(["native/lib/libpq.so", "native/lib/libpq.so.5"]);
    expect(await readlink(join(root, "native", "lib", "libpq.so.5"))).toBe("libpq.so.5.18");
    expect(await ensureLibraryLinks(root)).toEqual([]);
  });

  it("are nothing to do for a package without a list", async () => {
    await rm(join(root, "native", "pg-symlinks.json"));
    expect(await ensureLibraryLinks(root)).toEqual([]);
  });
});
