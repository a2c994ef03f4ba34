import { describe, expect, test } from "vitest";
import { EMPTY_HEALTH_FIELDS, healthCheckInputOf, type THealthFieldValues } from "./health-check";

const fields = (overrides: Partial<THealthFieldValues>) => ({ ...EMPTY_HEALTH_FIELDS, ...overrides });

describe("healthCheckInputOf", () => {
  test("none: no check", () => {
    expect(healthCheckInputOf(fields({ healthCommand: "true", healthPort: "80" }))).toEqual({
      ok: true,
      check: null,
    });
  });

  test.each([
    [
      { healthType: "exec" as const, healthCommand: " pg_isready -q " },
      { test: { type: "exec", command: "pg_isready -q" } },
    ],
    [
      {
        healthType: "http" as const,
        healthPort: "8080",
        healthPath: "healthz",
        healthInterval: "5s",
        healthTimeout: " 2s ",
        healthRetries: "5",
        healthStartPeriod: "1m",
        healthRestart: true,
      },
      {
        test: { type: "http", port: 8080, path: "/healthz" },
        interval: "5s",
        timeout: "2s",
        retries: 5,
        startPeriod: "1m",
        restartOnUnhealthy: true,
      },
    ],
    [{ healthType: "http" as const, healthPort: "80" }, { test: { type: "http", port: 80 } }],
    [
      { healthType: "tcp" as const, healthPort: "6379", healthPath: "/ignored" },
      { test: { type: "tcp", port: 6379 } },
    ],
  ])("%j → %j", (overrides, healthCheck) => {
    expect(healthCheckInputOf(fields(overrides))).toEqual({ ok: true, check: healthCheck });
  });

  test.each([
    [{ healthType: "exec" as const, healthCommand: "  " }, "healthCommand"],
    [{ healthType: "http" as const, healthPort: "" }, "healthPort"],
    [{ healthType: "tcp" as const, healthPort: "70000" }, "healthPort"],
    [{ healthType: "tcp" as const, healthPort: "80", healthRetries: "few" }, "healthRetries"],
  ])("%j is refused naming %s", (overrides, field) => {
    expect(healthCheckInputOf(fields(overrides))).toMatchObject({ ok: false, field });
  });
});
