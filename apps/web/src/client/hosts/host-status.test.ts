import { describe, expect, test } from "vitest";
import { hostDisplayStatus } from "./host-status";

describe("hostDisplayStatus", () => {
  test.each([
    ["online", false, "online"],
    ["online", true, "draining"],
    ["offline", false, "offline"],
    ["offline", true, "offline"],
  ] as const)("%s, draining %s → %s", (status, draining, shown) => {
    expect(hostDisplayStatus({ status, draining })).toBe(shown);
  });
});
