import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { extract } from "tar-stream";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { collectContext, parseDockerignore, tarContext } from "./context-archive";

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fleet-cli-context-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe(".dockerignore", () => {
  test("globs, directories, ** and ! exceptions, last rule wins", () => {
    const rules = parseDockerignore(
      ["# comment", "node_modules", "*.log", "**/tmp", "secrets/", "!keep.log", ""].join("\n"),
    );
    expect(rules.ignores("node_modules")).toBe(true);
    expect(rules.ignores("node_modules/x/y.js")).toBe(true);
    expect(rules.ignores("debug.log")).toBe(true);
    expect(rules.ignores("sub/debug.log")).toBe(false);
    expect(rules.ignores("keep.log")).toBe(false);
    expect(rules.ignores("tmp")).toBe(true);
    expect(rules.ignores("a/b/tmp/c")).toBe(true);
    expect(rules.ignores("secrets/key")).toBe(true);
    expect(rules.ignores("src/app.ts")).toBe(false);
  });
});

async function readArchive(archive: Buffer) {
  const entries: { name: string; type: string; mode: number; content: string; linkname: string | null }[] =
    [];
  const reader = extract();
  const done = (async () => {
    for await (const entry of reader) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const { name, type, mode, linkname } = entry.header;
      entries.push({
        name,
        type: type ?? "",
        mode: mode ?? 0,
        content: Buffer.concat(chunks).toString(),
        linkname: linkname ?? null,
      });
    }
  })();
  Readable.from([archive]).pipe(reader);
  await done;
  return entries;
}

describe("collectContext + tarContext", () => {
  test("files, directories and symlinks in order, with modes, minus what is ignored", async () => {
    await writeFile(join(dir, "Dockerfile"), "FROM scratch\n");
    await writeFile(join(dir, ".dockerignore"), "*.secret\nDockerfile\n");
    await writeFile(join(dir, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
    await writeFile(join(dir, "key.secret"), "no");
    await mkdir(join(dir, "src"));
    await writeFile(join(dir, "src", "main.txt"), "hello");
    await symlink("src/main.txt", join(dir, "link"));

    const entries = await collectContext(dir, { maxBytes: 1024, dockerfile: "Dockerfile" });
    expect(entries.map((entry) => [entry.path, entry.type])).toEqual([
      [".dockerignore", "file"],
      // Always sent, whatever .dockerignore says.
      ["Dockerfile", "file"],
      ["link", "symlink"],
      ["run.sh", "file"],
      ["src", "directory"],
      ["src/main.txt", "file"],
    ]);
    const archived = await readArchive(await tarContext(entries));
    expect(archived.map((entry) => entry.name)).toEqual(entries.map((entry) => entry.path));
    expect(archived.find((entry) => entry.name === "run.sh")).toMatchObject({
      mode: 0o755,
      content: "#!/bin/sh\n",
    });
    expect(archived.find((entry) => entry.name === "src/main.txt")).toMatchObject({
      type: "file",
      content: "hello",
    });
    expect(archived.find((entry) => entry.name === "link")).toMatchObject({
      type: "symlink",
      linkname: "src/main.txt",
    });
  });

  test("too large, no Dockerfile, or not a directory", async () => {
    await writeFile(join(dir, "Dockerfile"), "FROM scratch\n");
    await writeFile(join(dir, "big"), Buffer.alloc(2048));
    await expect(collectContext(dir, { maxBytes: 1024, dockerfile: "Dockerfile" })).rejects.toThrow(
      "the central's upload limit",
    );
    await expect(
      collectContext(dir, { maxBytes: 1 << 20, dockerfile: "other/Dockerfile" }),
    ).rejects.toMatchObject({
      exitCode: 2,
      message: `no other/Dockerfile in ${dir}`,
    });
    await expect(
      collectContext(join(dir, "big"), { maxBytes: 1 << 20, dockerfile: "Dockerfile" }),
    ).rejects.toMatchObject({
      exitCode: 2,
    });
  });
});
