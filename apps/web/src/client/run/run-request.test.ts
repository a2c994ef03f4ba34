import { describe, expect, test } from "vitest";
import {
  deploymentInputOf,
  EMPTY_RUN_FORM,
  envLines,
  portList,
  runRequestOf,
  splitCommandLine,
} from "./run-request";

const form = (overrides: Partial<typeof EMPTY_RUN_FORM>) => ({ ...EMPTY_RUN_FORM, ...overrides });

describe("splitCommandLine", () => {
  test.each([
    ["sleep 3600", ["sleep", "3600"]],
    ["  sleep   3600  ", ["sleep", "3600"]],
    ["sh -c 'echo hi; sleep 1'", ["sh", "-c", "echo hi; sleep 1"]],
    ['sh -c "echo \\"a b\\" \\\\ $HOME"', ["sh", "-c", 'echo "a b" \\ $HOME']],
    ["echo a\\ b", ["echo", "a b"]],
    ["echo '' x", ["echo", "", "x"]],
    ["echo 'it'\"'\"'s'", ["echo", "it's"]],
    ["", []],
  ])("%j", (line, words) => {
    expect(splitCommandLine(line)).toEqual(words);
  });

  test("refuses an unclosed quote", () => {
    expect(() => splitCommandLine("sh -c 'echo")).toThrow("unclosed single quote");
    expect(() => splitCommandLine('echo "a')).toThrow("unclosed double quote");
  });
});

describe("form lists", () => {
  test("env lines skip blanks and comments and keep values as typed", () => {
    expect(envLines("A=1\n\n# note\r\n  B=two words \nC=")).toEqual(["A=1", "B=two words ", "C="]);
  });
  test("ports split on commas, spaces and new lines", () => {
    expect(portList("8080:80, 9090:90/udp\n127.0.0.1:53:53 ,")).toEqual([
      "8080:80",
      "9090:90/udp",
      "127.0.0.1:53:53",
    ]);
  });
});

describe("runRequestOf", () => {
  test("an image alone asks for nothing else", () => {
    expect(runRequestOf(form({ image: " busybox:latest " }))).toEqual({
      ok: true,
      replicas: 1,
      run: { image: "busybox:latest", strategy: "binpack", restart: "no" },
    });
  });

  test("every field in docker's spelling, passed on for the API to parse", () => {
    const request = runRequestOf(
      form({
        image: "busybox",
        command: "sh -c 'sleep 60'",
        name: "web",
        memory: "64m",
        cpus: "0.5",
        pids: "100",
        env: "A=1\nB=2",
        ports: "8080:80",
        restart: "on-failure",
        maxRetries: "3",
        replicas: "3",
        strategy: "spread",
        constraints: "zone=a",
      }),
    );
    expect(request).toEqual({
      ok: true,
      replicas: 3,
      run: {
        image: "busybox",
        command: ["sh", "-c", "sleep 60"],
        name: "web",
        memory: "64m",
        cpus: "0.5",
        pids: 100,
        env: ["A=1", "B=2"],
        ports: ["8080:80"],
        restart: "on-failure:3",
        strategy: "spread",
        constraints: "zone=a",
      },
    });
    if (!request.ok) throw new Error("unreachable");
    expect(deploymentInputOf(request.run, request.replicas)).toEqual({ ...request.run, replicas: 3 });
  });

  test("retries only count with on-failure", () => {
    const request = runRequestOf(form({ image: "busybox", restart: "always", maxRetries: "3" }));
    expect(request.ok && request.run.restart).toBe("always");
  });

  test.each([
    [{ image: "  " }, "image"],
    [{ image: "busybox", command: "sh -c 'x" }, "command"],
    [{ image: "busybox", pids: "many" }, "pids"],
    [{ image: "busybox", replicas: "0" }, "replicas"],
    [{ image: "busybox", replicas: "1.5" }, "replicas"],
    [{ image: "busybox", restart: "on-failure" as const, maxRetries: "-1" }, "maxRetries"],
  ])("%j is refused naming %s", (overrides, field) => {
    expect(runRequestOf(form(overrides))).toMatchObject({ ok: false, field });
  });

  test("a deployment needs a name", () => {
    const request = runRequestOf(form({ image: "busybox", replicas: "2" }));
    if (!request.ok) throw new Error("expected ok");
    expect(deploymentInputOf(request.run, request.replicas)).toBeNull();
  });
});
