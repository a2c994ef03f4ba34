import { parseImageRef } from "@fleet/shared/image-ref";
import { describe, expect, it } from "vitest";
import { localBuildHolder, pinnedReference, type THostImageRow } from "./pin-image";

const DIGEST = `sha256:${"ab".repeat(32)}`;

describe("pinnedReference", () => {
  it("keeps the tag as written beside the digest", () => {
    expect(pinnedReference("127.0.0.1:5000/app:1", DIGEST)).toBe(`127.0.0.1:5000/app:1@${DIGEST}`);
    expect(pinnedReference("busybox:1.36", DIGEST)).toBe(`busybox:1.36@${DIGEST}`);
  });

  it("names the tag an untagged reference pulled", () => {
    expect(pinnedReference("fleet/app", DIGEST)).toBe(`fleet/app:latest@${DIGEST}`);
  });
});

describe("localBuildHolder", () => {
  const hostA = { id: "h-a", name: "a" };
  const hostB = { id: "h-b", name: "b" };
  const row = (host: typeof hostA, repoTags: string[], repoDigests: string[] = []): THostImageRow => ({
    host,
    repoTags,
    repoDigests,
  });

  it("finds a tag Docker built (no digest) or Podman built (localhost/, its own digest)", () => {
    expect(localBuildHolder([row(hostA, ["app:1"])], parseImageRef("app:1"))).toEqual(hostA);
    expect(
      localBuildHolder(
        [row(hostB, ["localhost/fleet/app:1"], [`localhost/fleet/app@${DIGEST}`])],
        parseImageRef("fleet/app:1"),
      ),
    ).toEqual(hostB);
    expect(localBuildHolder([row(hostA, ["localhost/app:latest"])], parseImageRef("app"))).toEqual(hostA);
  });

  it("is null when any host has the tag from a registry, or nobody holds it", () => {
    const pulled = row(hostB, ["127.0.0.1:5000/app:1"], [`127.0.0.1:5000/app@${DIGEST}`]);
    expect(
      localBuildHolder([row(hostA, ["127.0.0.1:5000/app:1"]), pulled], parseImageRef("127.0.0.1:5000/app:1")),
    ).toBeNull();
    expect(localBuildHolder([row(hostA, ["app:2", "<none>:<none>"])], parseImageRef("app:1"))).toBeNull();
    expect(localBuildHolder([row(hostA, ["other/app:1"])], parseImageRef("app:1"))).toBeNull();
  });
});
