import { describe, expect, test } from "vitest";
import {
  deploymentInputOf,
  EMPTY_RUN_FORM,
  entryLines,
  envLines,
  formProblemOf,
  listFieldsIn,
  nameList,
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
  test("volume and tmpfs entries are one per line, trimmed, skipping blanks and comments", () => {
    expect(entryLines(" data:/data \r\n\n# old\n/srv/a:/a:ro")).toEqual(["data:/data", "/srv/a:/a:ro"]);
  });
  test("networks split on commas and spaces", () => {
    expect(nameList(" frontend,backend  db ,")).toEqual(["frontend", "backend", "db"]);
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
        volumes: "data:/var/lib/app\n\n  /srv/conf:/etc/app:ro  ",
        tmpfs: "/scratch:size=16m\n/tmp",
        networks: "frontend, backend",
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
        volumes: ["data:/var/lib/app", "/srv/conf:/etc/app:ro"],
        tmpfs: ["/scratch:size=16m", "/tmp"],
        networks: ["frontend", "backend"],
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
    [{ image: "busybox", healthType: "exec" as const, healthCommand: " " }, "healthCommand"],
  ])("%j is refused naming %s", (overrides, field) => {
    expect(runRequestOf(form(overrides))).toMatchObject({ ok: false, field });
  });

  test("a deployment needs a name", () => {
    const request = runRequestOf(form({ image: "busybox", replicas: "2" }));
    if (!request.ok) throw new Error("expected ok");
    expect(deploymentInputOf(request.run, request.replicas)).toBeNull();
  });
});

describe("API problems with list entries", () => {
  const message =
    'volumes.1: invalid mount "x": expected volume:/path; networks.0: is an engine network; memory: too small';
  test("name the line or name counting from 1", () => {
    expect(formProblemOf(message)).toBe(
      'Volumes, line 2: invalid mount "x": expected volume:/path; Networks, name 1: is an engine network; memory: too small',
    );
    expect(formProblemOf("tmpfs.0: invalid tmpfs")).toBe("Tmpfs, line 1: invalid tmpfs");
  });
  test("say which fields to mark", () => {
    expect([...listFieldsIn(message)].sort()).toEqual(["networks", "volumes"]);
    expect(listFieldsIn("bind mount of /etc is not allowed").size).toBe(0);
  });
});

describe("the health check section", () => {
  test("none: no healthCheck in the request", () => {
    const request = runRequestOf(form({ image: "busybox", healthCommand: "true", healthPort: "80" }));
    expect(request.ok && "healthCheck" in request.run).toBe(false);
  });

  test("a check goes in the request as the section reads it", () => {
    const request = runRequestOf(form({ image: "busybox", healthType: "tcp", healthPort: "6379" }));
    expect(request.ok && request.run.healthCheck).toEqual({ test: { type: "tcp", port: 6379 } });
  });

  test("the API's problems name the form's fields", () => {
    expect(
      formProblemOf(
        'healthCheck.interval: invalid duration "5x"; healthCheck.test.path: must start with /; healthCheck.test.command[0]: must not contain NUL characters',
      ),
    ).toBe(
      'Health interval: invalid duration "5x"; Health path: must start with /; Health command: must not contain NUL characters',
    );
    expect(formProblemOf("healthCheck.startPeriod: must be 0 to 1d, got 2d")).toBe(
      "Health start period: must be 0 to 1d, got 2d",
    );
  });
});
