import { describe, expect, it } from "vitest";
import { logStreamRetryDelayMs } from "./log-stream-retry";

describe("log stream retry", () => {
  it("retries what can pass (a dropped link, an offline host, an agent without the container for now) with doubling pauses up to 15 s", () => {
    for (const code of ["PRECONDITION_FAILED", "NOT_FOUND", "INTERNAL_SERVER_ERROR", "TIMEOUT", undefined]) {
      expect([0, 1, 2, 3, 4, 5, 40].map((attempt) => logStreamRetryDelayMs(code, attempt))).toEqual([
        1000, 2000, 4000, 8000, 15_000, 15_000, 15_000,
      ]);
    }
  });

  it("does not retry what waiting cannot change", () => {
    for (const code of ["BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN"]) {
      expect(logStreamRetryDelayMs(code, 0)).toBeNull();
    }
  });
});
