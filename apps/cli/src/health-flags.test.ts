import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { UsageError } from "./cli-error";
import { healthCheckOf, type THealthFlagValues } from "./health-flags";
import { runCli } from "./main";
import { createTestIo } from "./testing/test-io";

function problem(values: THealthFlagValues): string {
  try {
    healthCheckOf(values, "run");
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error("expected a usage error");
}

describe("health check flags", () => {
  test("none given: no health check", () => {
    expect(healthCheckOf({}, "run")).toBeUndefined();
  });

  test("--health-cmd runs the line with sh -c, with docker's timing flags", () => {
    expect(
      healthCheckOf(
        {
          "health-cmd": "curl -fs localhost/ || exit 1",
          "health-interval": "5s",
          "health-timeout": "2s",
          "health-retries": "3",
          "health-start-period": "1m30s",
          "restart-on-unhealthy": true,
        },
        "run",
      ),
    ).toEqual({
      test: { type: "exec", command: ["sh", "-c", "curl -fs localhost/ || exit 1"] },
      interval: 5000,
      timeout: 2000,
      retries: 3,
      startPeriod: 90_000,
      restartOnUnhealthy: true,
    });
  });

  test("--health-http PORT[/PATH] and --health-tcp PORT", () => {
    expect(healthCheckOf({ "health-http": "8080" }, "run")).toEqual({
      test: { type: "http", port: 8080, path: "/" },
    });
    expect(healthCheckOf({ "health-http": "80/healthz?full=1" }, "run")).toEqual({
      test: { type: "http", port: 80, path: "/healthz?full=1" },
    });
    expect(healthCheckOf({ "health-tcp": "6379", "health-start-period": "0" }, "run")).toEqual({
      test: { type: "tcp", port: 6379 },
      startPeriod: 0,
    });
  });

  test.each([
    [{ "health-cmd": "true", "health-tcp": "80" }, "--health-cmd and --health-tcp are two kinds of check"],
    [{ "health-http": "80", "health-tcp": "80" }, "--health-http and --health-tcp are two kinds of check"],
    [{ "health-cmd": "  " }, "--health-cmd needs a command"],
    [
      { "health-http": "http/healthz" },
      "--health-http's PORT must be a whole number from 1 to 65535, got http",
    ],
    [{ "health-http": "80/a b" }, "--health-http 80/a b: the path must hold no spaces or control characters"],
    [{ "health-http": "/healthz" }, "--health-http's PORT must be a whole number from 1 to 65535, got "],
    [{ "health-tcp": "0" }, "--health-tcp must be a whole number from 1 to 65535, got 0"],
    [{ "health-tcp": "65536" }, "--health-tcp must be a whole number from 1 to 65535, got 65536"],
    [{ "health-tcp": "80", "health-interval": "soon" }, '--health-interval: invalid duration "soon"'],
    [{ "health-tcp": "80", "health-interval": "10ms" }, "--health-interval must be 100ms to 1d, got 10ms"],
    [{ "health-tcp": "80", "health-timeout": "2d" }, "--health-timeout must be 100ms to 1d, got 2d"],
    [{ "health-tcp": "80", "health-start-period": "25h" }, "--health-start-period must be 0s to 1d, got 25h"],
    [{ "health-tcp": "80", "health-retries": "0" }, "--health-retries must be a whole number from 1 to 100"],
    [
      { "health-tcp": "80", "health-retries": "many" },
      "--health-retries must be a whole number from 1 to 100",
    ],
    [{ "health-interval": "5s" }, "--health-interval needs a check: --health-cmd CMD, --health-http"],
    [{ "restart-on-unhealthy": true }, "--restart-on-unhealthy needs a check"],
  ] as [THealthFlagValues, string][])("%j: %s", (values, message) => {
    expect(problem(values)).toContain(message);
  });
});

describe("fleet run's health flags", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fleet-cli-health-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function fleet(argv: string[]) {
    const io = createTestIo({ env: { HOME: dir, XDG_CONFIG_HOME: dir } });
    const code = await runCli(argv, io);
    return { code, out: io.out(), err: io.err() };
  }

  test("--help documents every one", async () => {
    const { out } = await fleet(["run", "--help"]);
    for (const flag of [
      "--health-cmd CMD",
      "--health-http PORT[/PATH]",
      "--health-tcp PORT",
      "--health-interval DURATION",
      "--health-timeout DURATION",
      "--health-retries N",
      "--health-start-period DURATION",
      "--restart-on-unhealthy",
    ]) {
      expect(out).toContain(flag);
    }
  });

  test("a bad value is a usage error (2) before anything is sent", async () => {
    expect(await fleet(["run", "--health-tcp", "80", "--health-retries", "0", "redis"])).toMatchObject({
      code: 2,
      err: expect.stringContaining("--health-retries must be a whole number from 1 to 100, got 0"),
    });
    expect(
      await fleet(["run", "--replicas", "2", "--name", "api", "--health-interval", "5s", "api"]),
    ).toMatchObject({ code: 2, err: expect.stringContaining("--health-interval needs a check") });
  });

  test("good flags pass the checks (and stop only at the missing login)", async () => {
    const result = await fleet([
      "run",
      "--health-http",
      "80/healthz",
      "--health-interval",
      "5s",
      "--restart-on-unhealthy",
      "nginx",
    ]);
    expect(result).toMatchObject({ code: 3, err: expect.stringContaining("not logged in") });
  });
});
