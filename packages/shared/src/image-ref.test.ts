import { describe, expect, it } from "vitest";
import {
  familiarImageRef,
  formatImageRef,
  ImageRefError,
  normalizeImageRef,
  parseImageRef,
  ZDigest,
  ZImageRef,
} from "./image-ref";

const HEX = `${"a".repeat(32)}${"0123456789abcdef".repeat(2)}`;
const DIGEST = `sha256:${HEX}`;

describe("parseImageRef", () => {
  it.each([
    [
      "busybox",
      "docker.io",
      "library/busybox",
      null,
      null,
      "docker.io/library/busybox:latest",
      "busybox:latest",
    ],
    [
      "busybox:1.36",
      "docker.io",
      "library/busybox",
      "1.36",
      null,
      "docker.io/library/busybox:1.36",
      "busybox:1.36",
    ],
    ["fleet/app:v2", "docker.io", "fleet/app", "v2", null, "docker.io/fleet/app:v2", "fleet/app:v2"],
    [
      "docker.io/library/busybox",
      "docker.io",
      "library/busybox",
      null,
      null,
      "docker.io/library/busybox:latest",
      "busybox:latest",
    ],
    [
      "index.docker.io/busybox",
      "docker.io",
      "library/busybox",
      null,
      null,
      "docker.io/library/busybox:latest",
      "busybox:latest",
    ],
    [
      "127.0.0.1:5000/fleet/busybox:1.36",
      "127.0.0.1:5000",
      "fleet/busybox",
      "1.36",
      null,
      "127.0.0.1:5000/fleet/busybox:1.36",
      "127.0.0.1:5000/fleet/busybox:1.36",
    ],
    ["localhost/app", "localhost", "app", null, null, "localhost/app:latest", "localhost/app:latest"],
    [
      "localhost:5000/app:1",
      "localhost:5000",
      "app",
      "1",
      null,
      "localhost:5000/app:1",
      "localhost:5000/app:1",
    ],
    [
      "registry.example.com/a/b/c:x_y-z.1",
      "registry.example.com",
      "a/b/c",
      "x_y-z.1",
      null,
      "registry.example.com/a/b/c:x_y-z.1",
      "registry.example.com/a/b/c:x_y-z.1",
    ],
    ["[::1]:5000/app:1", "[::1]:5000", "app", "1", null, "[::1]:5000/app:1", "[::1]:5000/app:1"],
    [
      `busybox@${DIGEST}`,
      "docker.io",
      "library/busybox",
      null,
      DIGEST,
      `docker.io/library/busybox@${DIGEST}`,
      `busybox@${DIGEST}`,
    ],
    [
      `busybox:1.36@${DIGEST}`,
      "docker.io",
      "library/busybox",
      "1.36",
      DIGEST,
      `docker.io/library/busybox:1.36@${DIGEST}`,
      `busybox:1.36@${DIGEST}`,
    ],
    [
      "Registry.Local/app",
      "Registry.Local",
      "app",
      null,
      null,
      "Registry.Local/app:latest",
      "Registry.Local/app:latest",
    ],
    [
      "my__weird.name-with--dashes",
      "docker.io",
      "library/my__weird.name-with--dashes",
      null,
      null,
      "docker.io/library/my__weird.name-with--dashes:latest",
      "my__weird.name-with--dashes:latest",
    ],
  ])("%s", (input, registry, repository, tag, digest, normalized, familiar) => {
    const ref = parseImageRef(input);
    expect(ref).toEqual({ registry, repository, tag, digest, normalized });
    expect(formatImageRef(ref)).toBe(normalized);
    expect(familiarImageRef(ref)).toBe(familiar);
    // Normal forms are fixed points: parsing them again changes nothing.
    expect(parseImageRef(normalized)).toEqual(
      ref.tag === null && ref.digest === null ? { ...ref, tag: "latest" } : ref,
    );
    expect(parseImageRef(familiar).normalized).toBe(normalized);
  });

  it.each([
    ["", /empty/],
    ["Busybox", /lowercase/],
    ["fleet/App", /lowercase/],
    ["busybox:", /tag ""/],
    ["busybox:-bad", /tag/],
    [`busybox:${"t".repeat(129)}`, /tag/],
    ["busybox@sha256:abc", /64 lowercase hex/],
    [`busybox@sha256:${HEX.toUpperCase()}`, /64 lowercase hex/],
    [`busybox@md5:${HEX}`, /must start with sha256/],
    [`busybox@${DIGEST}@${DIGEST}`, /digest/],
    [`@sha256:${HEX}`, /repository name is missing/],
    [":tag", /repository name is missing/],
    ["busybox/", /path component/],
    ["/busybox", /path component/],
    ["fleet//app", /path component/],
    ["fleet/-app", /path component/],
    ["fleet/app_", /path component/],
    ["bad_host.com/app", /registry/],
    ["localhost:port/app", /registry/],
    [" busybox", /whitespace/],
    ["busy box", /path component/],
    [`${"a".repeat(256)}`, /longer than 255/],
    [`x/${"a".repeat(600)}`, /longer than 512/],
  ])("rejects %j", (input, reason) => {
    expect(() => parseImageRef(input)).toThrow(ImageRefError);
    expect(() => parseImageRef(input)).toThrow(reason);
  });

  it("names the input in the error", () => {
    expect(() => parseImageRef("Busybox")).toThrow(
      'invalid image reference "Busybox": repository name must be lowercase',
    );
  });

  it("normalizes different spellings of one image to the same string", () => {
    const spellings = ["busybox", "busybox:latest", "library/busybox", "docker.io/library/busybox:latest"];
    expect(new Set(spellings.map(normalizeImageRef))).toEqual(new Set(["docker.io/library/busybox:latest"]));
  });
});

describe("ZImageRef", () => {
  it("accepts a valid reference and keeps it as written", () => {
    expect(ZImageRef.parse("busybox")).toBe("busybox");
  });

  it("reports the parser's reason", () => {
    const result = ZImageRef.safeParse("Busybox");
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/lowercase/);
  });

  it("rejects more than 512 characters with a single issue", () => {
    const result = ZImageRef.safeParse(`x/${"a".repeat(600)}`);
    expect(result.error?.issues).toHaveLength(1);
  });

  it("rejects non-strings", () => {
    expect(ZImageRef.safeParse(42).success).toBe(false);
  });
});

describe("ZDigest", () => {
  it("accepts sha256 and rejects malformed digests", () => {
    expect(ZDigest.safeParse(DIGEST).success).toBe(true);
    expect(ZDigest.safeParse(`sha256:${HEX.slice(1)}`).success).toBe(false);
    expect(ZDigest.safeParse(HEX).success).toBe(false);
  });
});
