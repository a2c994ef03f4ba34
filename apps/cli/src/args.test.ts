import { describe, expect, test } from "vitest";
import { type CommandSpec, formatCommandHelp, integerFlag, parseCommandArgs } from "./args";
import { UsageError } from "./cli-error";

const runLike = {
  name: "run",
  summary: "Run",
  usage: "[OPTIONS] IMAGE [COMMAND] [ARG...]",
  options: {
    detach: { type: "boolean", short: "d", description: "Detach" },
    memory: { type: "string", short: "m", value: "BYTES", description: "Memory" },
    env: { type: "string", short: "e", multiple: true, value: "KEY=VALUE", description: "Env" },
  },
  args: { min: 1, max: null, what: "the image is" },
  stopAtFirstArg: true,
  examples: ["fleet run busybox"],
} as const satisfies CommandSpec;

const listLike = {
  name: "ps",
  summary: "List",
  usage: "[OPTIONS]",
  options: { all: { type: "boolean", short: "a", description: "All" } },
  args: { min: 0, max: 0, what: "" },
  examples: ["fleet ps"],
} as const satisfies CommandSpec;

function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error("expected a usage error");
}

describe("parseCommandArgs", () => {
  test("flags in their docker spellings, collected and typed", () => {
    const parsed = parseCommandArgs(runLike, [
      "-d",
      "-m",
      "64m",
      "-e",
      "A=1",
      "-eB=2",
      "--env=C=3",
      "busybox",
    ]);
    expect(parsed).toEqual({
      values: { detach: true, memory: "64m", env: ["A=1", "B=2", "C=3"] },
      args: ["busybox"],
      help: false,
    });
    expect(parseCommandArgs(runLike, ["-dm64m", "busybox"]).values).toEqual({ detach: true, memory: "64m" });
  });

  test("everything after the image belongs to its command, flags included", () => {
    const parsed = parseCommandArgs(runLike, ["-m", "64m", "busybox", "sh", "-c", "ls -l", "-m", "--help"]);
    expect(parsed.values).toEqual({ memory: "64m" });
    expect(parsed.args).toEqual(["busybox", "sh", "-c", "ls -l", "-m", "--help"]);
    expect(parsed.help).toBe(false);
    expect(parseCommandArgs(runLike, ["--", "-image-", "x"]).args).toEqual(["-image-", "x"]);
  });

  test("without stopAtFirstArg, flags may follow arguments", () => {
    const logsLike = { ...listLike, args: { min: 1, max: 1, what: "x" } } satisfies CommandSpec;
    expect(parseCommandArgs(logsLike, ["web", "-a"])).toEqual({
      values: { all: true },
      args: ["web"],
      help: false,
    });
  });

  test.each([
    [["--bogus", "busybox"], "unknown flag: --bogus"],
    [["-x", "busybox"], "unknown flag: -x"],
    [["busybox", "-m"], null],
    [["-m"], "flag -m, --memory needs a value"],
    [["--memory", "--detach", "busybox"], "flag --memory needs a value (got --detach"],
    [["--detach=yes", "busybox"], "flag --detach takes no value"],
    [[], "the image is missing"],
  ])("%j → %s", (argv, message) => {
    if (message === null) {
      expect(parseCommandArgs(runLike, argv).args).toEqual(argv);
      return;
    }
    const error = usageError(() => parseCommandArgs(runLike, argv));
    expect(error.message).toContain(message);
    expect(error.exitCode).toBe(2);
    expect(error.command).toBe("run");
  });

  test("an alias collects into its flag, in the order given", () => {
    const netLike = {
      ...listLike,
      options: {
        network: { type: "string", aliases: ["net"], multiple: true, value: "NET", description: "Network" },
      },
    } as const satisfies CommandSpec;
    expect(parseCommandArgs(netLike, ["--net", "a", "--network=b", "--net=c"]).values).toEqual({
      network: ["a", "b", "c"],
    });
    expect(formatCommandHelp(netLike)).toMatch(/ {6}--network, --net NET {3}Network/);
    expect(usageError(() => parseCommandArgs(netLike, ["--net"])).message).toBe(
      "flag --network, --net needs a value",
    );
  });

  test("a command without arguments refuses them", () => {
    expect(usageError(() => parseCommandArgs(listLike, ["extra"])).message).toBe(
      "fleet ps takes no arguments (got extra)",
    );
  });

  test("--help wins over missing arguments", () => {
    expect(parseCommandArgs(runLike, ["--help"]).help).toBe(true);
    expect(parseCommandArgs(listLike, ["-h", "extra"]).help).toBe(true);
  });
});

describe("formatCommandHelp", () => {
  test("usage, every flag with its placeholder, and the examples", () => {
    const help = formatCommandHelp(runLike);
    expect(help).toContain("Usage:  fleet run [OPTIONS] IMAGE [COMMAND] [ARG...]");
    expect(help).toMatch(/ {2}-d, --detach {10}Detach/);
    expect(help).toMatch(/ {2}-m, --memory BYTES {3,}Memory/);
    expect(help).toMatch(/ {2}-e, --env KEY=VALUE {3,}Env/);
    expect(help).toMatch(/ {2}-h, --help {3,}Show this help/);
    expect(help).toContain("Example:\n  fleet run busybox\n");
  });
});

describe("integerFlag", () => {
  test("whole numbers within bounds", () => {
    expect(integerFlag("3", "--replicas", "run", { min: 1, max: 5 })).toBe(3);
    expect(integerFlag(undefined, "--replicas", "run", { min: 1, max: 5 })).toBeUndefined();
    for (const bad of ["0", "6", "1.5", "-1", "x", ""]) {
      expect(usageError(() => integerFlag(bad, "--replicas", "run", { min: 1, max: 5 })).message).toBe(
        `--replicas must be a whole number from 1 to 5, got ${bad}`,
      );
    }
  });
});
