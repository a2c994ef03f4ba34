import { describe, expect, it } from "vitest";
import { AGENT_FLAGS, agentHelpText, ConfigError, DEFAULT_STATE_DIR, parseAgentConfig } from "./config";

const defaults = { hostname: "node-7" };

function run(argv: string[], env: Record<string, string> = {}) {
  const outcome = parseAgentConfig(argv, env, defaults);
  if (outcome.kind !== "run") throw new Error("expected a run config");
  return outcome.config;
}

function failure(argv: string[], env: Record<string, string> = {}): ConfigError {
  try {
    parseAgentConfig(argv, env, defaults);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

const PIN = "sha256//AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/abcde=";

describe("parseAgentConfig", () => {
  it("takes a server pin only for a TLS server, and only in curl's sha256// form", () => {
    expect(run(["--server", "https://c:3443", "--server-pin", PIN]).serverPin).toBe(PIN);
    expect(() => run(["--server", "http://c:3000", "--server-pin", PIN])).toThrow(
      /--server-pin \(FLEET_SERVER_PIN\): a pinned central must be dialled over TLS/,
    );
    expect(() => run(["--server", "https://c:3443", "--server-pin", "sha256//short="])).toThrow(
      /--server-pin \(FLEET_SERVER_PIN\): must be sha256\/\//,
    );
    expect(() => run(["--server", "https://c:3443", "--server-pin", PIN.replace("sha256//", "")])).toThrow(
      ConfigError,
    );
  });

  it("applies defaults when only the server and join token are given", () => {
    const config = run(["--server", "https://central.example:8443", "--join-token", "jt-1"]);
    expect(config).toEqual({
      serverUrl: "https://central.example:8443",
      joinToken: "jt-1",
      engine: null,
      dockerHost: null,
      name: "node-7",
      labels: {},
      stateDir: DEFAULT_STATE_DIR,
      metricsIntervalMs: 5000,
      reserveCpuMillis: 100,
      reserveMemoryBytes: 256 * 1024 * 1024,
      serverPin: null,
      caFile: null,
      cgroupParent: null,
      logLevel: "info",
    });
  });

  it("reads every setting from flags", () => {
    const config = run([
      "--server=http://127.0.0.1:3000",
      "--join-token=abc",
      "--engine=unix:///run/podman/podman.sock",
      "--name=edge-1",
      "--label",
      "zone=a",
      "--label",
      "disk=ssd",
      "--state-dir=/tmp/state",
      "--metrics-interval=500ms",
      "--reserve-cpu=250m",
      "--reserve-memory=1g",
      "--ca-file=/etc/fleet/ca.pem",
      "--cgroup-parent=/fleet",
      "--log-level=debug",
    ]);
    expect(config).toMatchObject({
      serverUrl: "http://127.0.0.1:3000",
      engine: "unix:///run/podman/podman.sock",
      name: "edge-1",
      labels: { zone: "a", disk: "ssd" },
      stateDir: "/tmp/state",
      metricsIntervalMs: 500,
      reserveCpuMillis: 250,
      reserveMemoryBytes: 1024 ** 3,
      caFile: "/etc/fleet/ca.pem",
      cgroupParent: "/fleet",
      logLevel: "debug",
    });
  });

  it("reads every setting from the environment", () => {
    const config = run([], {
      FLEET_SERVER: "wss://central:443",
      FLEET_JOIN_TOKEN: "env-token",
      FLEET_ENGINE: "/run/user/1000/podman/podman.sock",
      DOCKER_HOST: "unix:///srv/docker.sock",
      FLEET_NAME: "env-host",
      FLEET_LABELS: "zone=b, gpu=true",
      FLEET_STATE_DIR: "/srv/fleet",
      FLEET_METRICS_INTERVAL: "10s",
      FLEET_RESERVE_CPU: "0.5",
      FLEET_RESERVE_MEMORY: "512m",
      FLEET_SERVER_PIN: PIN,
      FLEET_CA_FILE: "/ca.pem",
      FLEET_CGROUP_PARENT: "/machine.slice",
      FLEET_LOG_LEVEL: "WARN",
    });
    expect(config).toEqual({
      serverUrl: "wss://central:443",
      joinToken: "env-token",
      engine: "/run/user/1000/podman/podman.sock",
      dockerHost: "unix:///srv/docker.sock",
      name: "env-host",
      labels: { zone: "b", gpu: "true" },
      stateDir: "/srv/fleet",
      metricsIntervalMs: 10_000,
      reserveCpuMillis: 500,
      reserveMemoryBytes: 512 * 1024 * 1024,
      serverPin: PIN,
      caFile: "/ca.pem",
      cgroupParent: "/machine.slice",
      logLevel: "warn",
    });
  });

  it("lets flags win over the environment, label by label", () => {
    const config = run(["--server", "http://flag:1", "--metrics-interval", "1s", "--label", "zone=flag"], {
      FLEET_SERVER: "http://env:1",
      FLEET_METRICS_INTERVAL: "30s",
      FLEET_LABELS: "zone=env,rack=r1",
      FLEET_JOIN_TOKEN: "t",
    });
    expect(config.serverUrl).toBe("http://flag:1");
    expect(config.metricsIntervalMs).toBe(1000);
    expect(config.labels).toEqual({ zone: "flag", rack: "r1" });
    expect(config.joinToken).toBe("t");
  });

  it("allows a zero reserve", () => {
    const config = run(["--server", "http://x:1", "--reserve-cpu", "0", "--reserve-memory", "0"]);
    expect(config.reserveCpuMillis).toBe(0);
    expect(config.reserveMemoryBytes).toBe(0);
  });

  it("leaves the join token out when none is given (a stored credential may do)", () => {
    expect(run(["--server", "http://x:1"]).joinToken).toBeNull();
  });

  it.each([
    [[], {}, /--server \(FLEET_SERVER\): is required/],
    [["--server", "ftp://x"], {}, /--server \(FLEET_SERVER\): must be an http/],
    [
      ["--server", "http://x:1", "--metrics-interval", "fast"],
      {},
      /--metrics-interval \(FLEET_METRICS_INTERVAL\): invalid duration "fast"/,
    ],
    [["--server", "http://x:1", "--metrics-interval", "10ms"], {}, /at least 100ms/],
    [
      ["--server", "http://x:1", "--reserve-cpu", "lots"],
      {},
      /--reserve-cpu \(FLEET_RESERVE_CPU\): invalid cpus/,
    ],
    [["--server", "http://x:1", "--reserve-memory", "12q"], {}, /--reserve-memory .*invalid memory size/],
    [
      ["--server", "http://x:1", "--engine", "tcp://127.0.0.1:2375"],
      {},
      /--engine \(FLEET_ENGINE\): must be unix/,
    ],
    [["--server", "http://x:1", "--log-level", "loud"], {}, /--log-level \(FLEET_LOG_LEVEL\)/],
    [["--server", "http://x:1", "--label", "novalue"], {}, /--label: label "novalue" must be key=value/],
    [["--server", "http://x:1"], { FLEET_LABELS: "Bad Key=1" }, /FLEET_LABELS: invalid label/],
    [["--server", "http://x:1", "--name", "bad name"], {}, /--name \(FLEET_NAME\)/],
    [["--servr", "http://x:1"], {}, /Unknown option '--servr'/],
    [["--server", "http://x:1", "extra"], {}, /positional/],
  ] as const)("rejects %j %j with a clear message", (argv, env, message) => {
    const error = failure([...argv], env);
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(message);
  });

  it("answers --help and -h with the help text", () => {
    expect(parseAgentConfig(["--help"], {}, defaults)).toEqual({ kind: "help", text: agentHelpText() });
    expect(parseAgentConfig(["-h"], {}, defaults).kind).toBe("help");
  });
});

describe("agentHelpText", () => {
  it("explains every flag with its environment variable and default", () => {
    const text = agentHelpText();
    for (const doc of AGENT_FLAGS) {
      expect(text).toContain(`--${doc.flag}`);
      if (doc.env) expect(text).toContain(doc.env);
      if (doc.default) expect(text).toContain(`default ${doc.default}`);
    }
    for (const flag of [
      "server",
      "join-token",
      "engine",
      "name",
      "label",
      "state-dir",
      "metrics-interval",
      "reserve-cpu",
      "reserve-memory",
      "ca-file",
      "cgroup-parent",
      "log-level",
    ]) {
      expect(text).toContain(`--${flag} `);
    }
  });
});
