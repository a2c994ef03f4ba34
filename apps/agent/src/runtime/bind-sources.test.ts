import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TContainerSpec } from "@fleet/shared/domain/container-spec";
import { makeContainerSpec } from "@fleet/shared/protocol/test-factories";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertCanonicalBindSource, resolveBindSources } from "./bind-sources";
import { isDriverError } from "./driver";

// A real directory tree: the point is what the kernel's symlink resolution makes of these paths.
let root: string;
let allowed: string;
let outside: string;

beforeAll(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), "fleet-bind-sources-")));
  allowed = join(root, "allowed");
  outside = join(root, "outside");
  await mkdir(join(allowed, "releases", "7"), { recursive: true });
  await mkdir(join(allowed, "deep", "er"), { recursive: true });
  await mkdir(outside);
  await writeFile(join(allowed, "app.conf"), "x");
  await symlink("/", join(allowed, "to-root"));
  await symlink("../..", join(allowed, "up"));
  await symlink("../../..", join(allowed, "deep", "er", "climb"));
  await symlink("releases/7", join(allowed, "current"));
  await symlink(outside, join(allowed, "to-outside"));
  await symlink(join(allowed, "nowhere"), join(allowed, "dangling"));
  await symlink("loop-b", join(allowed, "loop-a"));
  await symlink("loop-a", join(allowed, "loop-b"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function binding(...sources: string[]): TContainerSpec {
  return makeContainerSpec({
    mounts: [
      { type: "volume", source: "data", target: "/var/lib/data", readOnly: false },
      ...sources.map((source, i) => ({ type: "bind" as const, source, target: `/m${i}`, readOnly: i > 0 })),
      { type: "tmpfs", target: "/tmp", sizeBytes: 4096 },
    ],
  });
}

async function refusal(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    if (isDriverError(error, "bind-mount-refused")) return error.message;
    throw error;
  }
  throw new Error("expected a bind-mount-refused error");
}

describe("resolveBindSources", () => {
  it("replaces each source by its real path when that stays under a prefix, leaving other mounts alone", async () => {
    const spec = binding(join(allowed, "current"), join(allowed, "app.conf"), `${allowed}//releases/7/`);
    const resolved = await resolveBindSources(spec, [allowed]);
    expect(resolved.mounts).toEqual([
      spec.mounts[0],
      { type: "bind", source: join(allowed, "releases", "7"), target: "/m0", readOnly: false },
      { type: "bind", source: join(allowed, "app.conf"), target: "/m1", readOnly: true },
      { type: "bind", source: join(allowed, "releases", "7"), target: "/m2", readOnly: true },
      spec.mounts.at(-1),
    ]);
    expect(resolved.id).toBe(spec.id);
  });

  it("allows the prefix itself", async () => {
    expect((await resolveBindSources(binding(allowed), [allowed])).mounts[1]).toMatchObject({
      source: allowed,
    });
  });

  it.each([
    ["an absolute symlink to /", "to-root", "/"],
    ["a relative symlink climbing out with ../..", "up", "PARENT"],
    ["a relative symlink deeper down climbing out", "deep/er/climb", "ROOT"],
    ["a symlink to a sibling directory", "to-outside", "OUTSIDE"],
    ["'..' components after a symlink", "current/../../..", "ROOT"],
    ["'..' components leaving the prefix", "releases/../..", "ROOT"],
  ])("refuses %s, naming the path it resolves to", async (_what, relative, resolvesTo) => {
    // Not path.join: it would fold the '..' away before the filesystem sees it.
    const raw = `${allowed}/${relative}`;
    const expected = { ROOT: root, PARENT: dirname(root), OUTSIDE: outside }[resolvesTo] ?? resolvesTo;
    expect(await refusal(resolveBindSources(binding(raw), [allowed]))).toBe(
      `bind mount of ${raw} refused: it resolves to ${expected}, outside the allowed host paths (${allowed})`,
    );
  });

  it("does not take a prefix for a longer name (/srv/data is not /srv/database)", async () => {
    expect(await refusal(resolveBindSources(binding(`${allowed}x`), [allowed]))).toMatch(
      /bind source path does not exist/,
    );
    expect(await refusal(resolveBindSources(binding(outside), [join(root, "out")]))).toMatch(
      /it resolves to .*\/outside, outside the allowed host paths/,
    );
  });

  it("refuses a missing source and a dangling symlink instead of leaving them to the engine", async () => {
    expect(await refusal(resolveBindSources(binding(join(allowed, "missing")), [allowed]))).toBe(
      `bind mount of ${join(allowed, "missing")} refused: bind source path does not exist`,
    );
    expect(await refusal(resolveBindSources(binding(join(allowed, "dangling")), [allowed]))).toBe(
      `bind mount of ${join(allowed, "dangling")} refused: bind source path does not exist`,
    );
    expect(await refusal(resolveBindSources(binding(join(allowed, "loop-a")), [allowed]))).toBe(
      `bind mount of ${join(allowed, "loop-a")} refused: too many levels of symbolic links`,
    );
  });

  it("refuses every bind mount when no prefixes are allowed, and passes specs without any", async () => {
    expect(await refusal(resolveBindSources(binding(allowed), []))).toBe(
      `bind mount of ${allowed} refused: no host paths are allowed for bind mounts`,
    );
    const plain = makeContainerSpec();
    expect(await resolveBindSources(plain, [])).toBe(plain);
  });
});

describe("assertCanonicalBindSource", () => {
  it("accepts a real path and refuses one that goes through a symlink or no longer exists", async () => {
    await expect(assertCanonicalBindSource(join(allowed, "releases", "7"))).resolves.toBeUndefined();
    expect(await refusal(assertCanonicalBindSource(join(allowed, "to-root")))).toBe(
      `bind mount of ${join(allowed, "to-root")} refused: it now resolves to /: a symlink took the place of part of the path`,
    );
    expect(await refusal(assertCanonicalBindSource(`${allowed}/current/..`))).toMatch(
      /it now resolves to .*\/releases: a symlink/,
    );
    expect(await refusal(assertCanonicalBindSource(join(allowed, "gone")))).toMatch(/does not exist/);
  });
});
