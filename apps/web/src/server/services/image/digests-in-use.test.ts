import { describe, expect, test } from "vitest";
import { repositoryOf } from "./digests-in-use";

const DIGEST = `sha256:${"a".repeat(64)}`;

describe("repositoryOf", () => {
  test.each([
    ["busybox", "busybox"],
    ["busybox:1.36", "busybox"],
    [`busybox:1.36@${DIGEST}`, "busybox"],
    [`docker.io/library/busybox@${DIGEST}`, "busybox"],
    ["fleet/app:2", "fleet/app"],
    [`127.0.0.1:5000/app:1@${DIGEST}`, "127.0.0.1:5000/app"],
    ["localhost:5000/team/app", "localhost:5000/team/app"],
  ])("%s → %s", (image, repository) => {
    expect(repositoryOf(image)).toBe(repository);
  });
});
