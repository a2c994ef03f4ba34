// The archive is checked by the system's own tar, so a format mistake here
// cannot hide behind a reader written to match the writer.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { buildContextOf, contextKindOf } from "./build-context";
import { tarArchive } from "./tar-writer";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "fleet-tar-"));
  dirs.push(dir);
  return dir;
}

const text = (value: string) => new TextEncoder().encode(value);

describe("tarArchive", () => {
  test("GNU tar lists and extracts what it wrote, contents and modes intact", () => {
    const dir = scratch();
    const big = new Uint8Array(1300).map((_, index) => index % 251);
    const archive = tarArchive([
      { path: "Dockerfile", content: text("FROM scratch\nCOPY run.sh /\n") },
      { path: "sub/run.sh", content: text("#!/bin/sh\necho hi\n"), mode: 0o755 },
      { path: "blob.bin", content: big },
      { path: "empty", content: new Uint8Array(0) },
    ]);
    expect(archive.length % 512).toBe(0);
    writeFileSync(join(dir, "context.tar"), archive);
    const listing = execFileSync("tar", ["-tvf", join(dir, "context.tar")], { encoding: "utf8" });
    expect(listing).toMatch(/^-rwxr-xr-x .* sub\/run\.sh$/m);
    expect(
      listing
        .trim()
        .split("\n")
        .map((line) => line.split(/\s+/).at(-1)),
    ).toEqual(["Dockerfile", "sub/run.sh", "blob.bin", "empty"]);
    execFileSync("tar", ["-xf", join(dir, "context.tar"), "-C", dir]);
    expect(readFileSync(join(dir, "Dockerfile"), "utf8")).toBe("FROM scratch\nCOPY run.sh /\n");
    expect(new Uint8Array(readFileSync(join(dir, "blob.bin")))).toEqual(big);
    expect(readFileSync(join(dir, "empty")).length).toBe(0);
  });

  test("refuses a path longer than the header holds", () => {
    expect(() => tarArchive([{ path: "a".repeat(101), content: new Uint8Array(1) }])).toThrow(
      "over 100 bytes",
    );
  });
});

describe("buildContextOf", () => {
  test("a Dockerfile is wrapped into a tar that holds it under the given path", () => {
    const dir = scratch();
    const context = buildContextOf(text("FROM scratch\n"), "build/Dockerfile.dev");
    expect(context.kind).toBe("dockerfile");
    expect(contextKindOf(context.bytes)).toBe("tar");
    writeFileSync(join(dir, "context.tar"), context.bytes);
    execFileSync("tar", ["-xf", join(dir, "context.tar"), "-C", dir]);
    expect(readFileSync(join(dir, "build/Dockerfile.dev"), "utf8")).toBe("FROM scratch\n");
  });

  test("tar and compressed tar files go up as they are", () => {
    const dir = scratch();
    writeFileSync(join(dir, "Dockerfile"), "FROM scratch\n");
    execFileSync("tar", ["-cf", join(dir, "c.tar"), "-C", dir, "Dockerfile"]);
    execFileSync("tar", ["-czf", join(dir, "c.tar.gz"), "-C", dir, "Dockerfile"]);
    const tar = new Uint8Array(readFileSync(join(dir, "c.tar")));
    const gzip = new Uint8Array(readFileSync(join(dir, "c.tar.gz")));
    expect(buildContextOf(tar)).toEqual({ kind: "tar", bytes: tar });
    expect(buildContextOf(gzip)).toEqual({ kind: "gzip", bytes: gzip });
  });

  test("an empty or binary file is refused", () => {
    expect(() => buildContextOf(new Uint8Array(0))).toThrow("empty");
    expect(() => buildContextOf(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0]))).toThrow("neither");
  });
});
