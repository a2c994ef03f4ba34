import { describe, expect, expectTypeOf, it } from "vitest";
import {
  OPERATION_KINDS,
  type TOperationKind,
  type TOperationResult,
  ZImageRefOrId,
  ZOperation,
  ZOperationResults,
} from "./operations";

describe("operations", () => {
  it("has a result schema for every kind, and only those", () => {
    expect(Object.keys(ZOperationResults).sort()).toEqual([...OPERATION_KINDS].sort());
    expectTypeOf<(typeof OPERATION_KINDS)[number]>().toEqualTypeOf<TOperationKind>();
  });

  it("types results by kind", () => {
    expectTypeOf<TOperationResult<"image.pull">>().toEqualTypeOf<{ digest: string | null }>();
    expectTypeOf<TOperationResult<"image.build">>().toEqualTypeOf<{ imageId: string }>();
    expectTypeOf<TOperationResult<"logs">["lines"][number]["stream"]>().toEqualTypeOf<"stdout" | "stderr">();
  });

  it("fills in defaults", () => {
    expect(ZOperation.parse({ kind: "image.remove", image: "busybox" })).toEqual({
      kind: "image.remove",
      image: "busybox",
      force: false,
    });
    expect(ZOperation.parse({ kind: "image.build", tag: "app:1", uploadId: "u-1" })).toEqual({
      kind: "image.build",
      tag: "app:1",
      dockerfile: "Dockerfile",
      uploadId: "u-1",
    });
  });

  it.each([
    ["busybox", true],
    [`sha256:${"a".repeat(64)}`, true],
    ["0123456789ab", true],
    // docker reads this as the repository "sha256" with the tag "xyz".
    ["sha256:xyz", true],
    ["sha256:", false],
    ["Busybox", false],
  ])("image ref or id %j valid: %s", (value, valid) => {
    expect(ZImageRefOrId.safeParse(value).success).toBe(valid);
  });

  it.each(["/etc/Dockerfile", "../Dockerfile", "a/../../b", ""])(
    "rejects dockerfile path %j",
    (dockerfile) => {
      expect(
        ZOperation.safeParse({ kind: "image.build", tag: "app:1", uploadId: "u", dockerfile }).success,
      ).toBe(false);
    },
  );

  it("rejects results that do not match their kind", () => {
    expect(ZOperationResults["image.build"].safeParse({ imageId: "abc" }).success).toBe(false);
    expect(ZOperationResults.logs.safeParse({ lines: [], truncated: "no" }).success).toBe(false);
    expect(
      ZOperationResults["image.list"].safeParse({
        images: [
          {
            id: `sha256:${"a".repeat(64)}`,
            tags: [],
            digests: [],
            sizeBytes: -1,
            createdAt: "2025-01-01T00:00:00Z",
          },
        ],
      }).success,
    ).toBe(false);
  });
});
