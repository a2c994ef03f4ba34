import { describe, expect, it } from "vitest";
import { pinnedReference } from "./pin-image";

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
