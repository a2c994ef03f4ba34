/**
 * The `fleet-agent` process: reads the configuration, finds the engine,
 * starts the agent and stops it cleanly on SIGTERM/SIGINT (containers keep
 * running). Exit codes: 0 after a signal, 1 on a fatal error, 2 on a
 * configuration error.
 */
import { readFile, writeFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { pino } from "pino";
import { Agent, type AgentOptions } from "./agent";
import { ConfigError, parseProcessConfig, processUpgradeEnvironment, redactConfig } from "./config";
import { HEALTH_PROBE_COMMAND, runHealthProbe } from "./health/probe-program";
import { JoinRejectedError } from "./link/agent-link";
import { cgroupMetricsSource, kmsgOomSource } from "./metrics-source";
import { EngineDriver } from "./runtime/engine/engine-driver";
import { discoverEngine } from "./runtime/engine-discovery";
import { StateStore, StateStoreError } from "./state-store";
import {
  DEFAULT_TRIAL_DEADLINE_MS,
  EXECUTABLE_ENV,
  runTrial,
  stopTrialChild,
  TRIAL_DEADLINE_ENV,
  TRIAL_ENV,
  TRIAL_OK,
} from "./upgrade/trial";
import { AGENT_BUILD_ID, AGENT_COMMIT, AGENT_IS_BUILT, AGENT_VERSION, agentVersionLine } from "./version";

function usageError(message: string): number {
  process.stderr.write(`fleet-agent: ${message}\nsee fleet-agent --help\n`);
  return 2;
}

export async function main(): Promise<number> {
  let outcome: ReturnType<typeof parseProcessConfig>;
  try {
    outcome = parseProcessConfig();
  } catch (error) {
    if (error instanceof ConfigError) return usageError(error.message);
    throw error;
  }
  if (outcome.kind === "help") {
    process.stdout.write(`${outcome.text}\n`);
    return 0;
  }
  if (outcome.kind === "version") {
    process.stdout.write(`${agentVersionLine()}\n`);
    return 0;
  }
  const config = outcome.config;

  let caPem: string | null = null;
  if (config.caFile) {
    try {
      caPem = await readFile(config.caFile, "utf8");
    } catch (error) {
      return usageError(
        `--ca-file (FLEET_CA_FILE): cannot read ${config.caFile}: ${(error as Error).message}`,
      );
    }
    if (!caPem.includes("-----BEGIN CERTIFICATE-----")) {
      return usageError(`--ca-file (FLEET_CA_FILE): ${config.caFile} holds no PEM certificate`);
    }
  }

  const log = pino({ level: config.logLevel, base: { app: "fleet-agent", host: config.name } });
  log.info(
    { config: redactConfig(config), version: AGENT_VERSION, commit: AGENT_COMMIT },
    "fleet-agent starting",
  );

  let agentOptions: Omit<AgentOptions, "metrics" | "kernelOoms" | "startupEvents" | "selfUpgrade">;
  let diskPath: string;
  try {
    const engine = await discoverEngine({
      flag: config.engine ?? undefined,
      env: { DOCKER_HOST: config.dockerHost ?? undefined },
    });
    const driver = await EngineDriver.connect({
      socketPath: engine.socketPath,
      ...(config.cgroupParent ? { cgroupParent: config.cgroupParent } : {}),
    });
    log.info(
      { socketPath: engine.socketPath, source: engine.source, engine: driver.name },
      "using container engine",
    );
    const fingerprint = await driver.containers.fingerprint();
    diskPath = fingerprint.dataRoot;
    agentOptions = {
      config,
      driver,
      store: new StateStore(config.stateDir),
      log,
      agentVersion: AGENT_BUILD_ID,
      caPem,
    };
  } catch (error) {
    log.fatal({ err: error }, `cannot start: ${(error as Error).message}`);
    return 1;
  }

  const upgradeEnv = processUpgradeEnvironment({
    trial: TRIAL_ENV,
    executable: EXECUTABLE_ENV,
    deadline: TRIAL_DEADLINE_ENV,
  });
  const trialFile = upgradeEnv.trialFile;
  const executable = AGENT_IS_BUILT ? (upgradeEnv.executable ?? process.execPath) : null;
  const deadlineMs = upgradeEnv.deadlineMs ?? DEFAULT_TRIAL_DEADLINE_MS;

  let agent: Agent | null = null;
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    signalled = true;
    log.info({ signal }, "signal received");
    void agent?.stop();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  let startupEvents: AgentOptions["startupEvents"] = [];
  let trialSignalled = false;
  for (;;) {
    let staged: (staged: { path: string; version: string }) => void = () => {};
    const stagedUpgrade = new Promise<{ path: string; version: string }>((resolve) => {
      staged = resolve;
    });
    const current: Agent = new Agent({
      ...agentOptions,
      metrics: cgroupMetricsSource({ diskPath, log }),
      kernelOoms: kmsgOomSource({ log }),
      startupEvents,
      selfUpgrade: { executable, onStaged: (s) => staged(s) },
      onConnected: () => {
        if (!trialFile || trialSignalled) return;
        trialSignalled = true;
        void writeFile(trialFile, TRIAL_OK).catch((error: unknown) =>
          log.error({ err: error, path: trialFile }, "could not tell the old agent that this one connected"),
        );
      },
    });
    agent = current;
    let outcome: { kind: "done" } | { kind: "upgrade"; path: string; version: string };
    try {
      await current.start();
      const ended = current.done.then(() => ({ kind: "done" as const }));
      // After a switch to an upgrade, a late end of this agent must not become an unhandled rejection.
      ended.catch(() => {});
      outcome = await Promise.race([ended, stagedUpgrade.then((s) => ({ kind: "upgrade" as const, ...s }))]);
    } catch (error) {
      if (signalled) return 0;
      if (error instanceof StateStoreError) {
        log.fatal({ err: error }, error.message);
        return 2;
      }
      if (error instanceof JoinRejectedError) return 1; // the link already logged it
      log.fatal({ err: error }, `fleet-agent failed: ${(error as Error).message}`);
      await current.stop().catch(() => {});
      return 1;
    }
    if (outcome.kind === "done" || signalled || !executable) return 0;

    log.info({ staged: outcome.path, version: outcome.version, deadlineMs }, "trying the new agent binary");
    await current.stop();
    const trial = await runTrial({
      executable,
      staged: outcome.path,
      args: process.argv.slice(2),
      env: upgradeEnv.childEnv,
      stateDir: config.stateDir,
      deadlineMs,
    });
    if (trial.ok) {
      log.info(
        { version: outcome.version, path: executable },
        "the new agent binary connected and replaced this one",
      );
      // systemd starts the unit's binary again when this process exits, and a stop signal meant this
      // agent to end: either way the trial copy must not run on beside it.
      if (upgradeEnv.underSystemd || signalled) await stopTrialChild(trial.child);
      return 0;
    }
    if (signalled) return 0;
    log.error(
      { reason: trial.reason, version: outcome.version },
      "upgrade rolled back; this binary keeps running",
    );
    startupEvents = [
      {
        kind: "agent.upgrade-failed",
        message: `upgrade to ${outcome.version} rolled back: ${trial.reason}`.slice(0, 4000),
        data: { version: outcome.version, running: AGENT_BUILD_ID },
      },
    ];
  }
}

// The built executable is also the HTTP/TCP health probe the agent runs in a
// container's network namespace (see health/netns-probe.ts): it ignores
// node's `-e`, so the probe is a subcommand no help text mentions.
if (process.argv[2] === HEALTH_PROBE_COMMAND) runHealthProbe(process.argv.slice(3), { http, net });
// pino writes stdout synchronously, so exiting right away loses no log line; it also ends
// keep-alive sockets to the engine that would otherwise hold the process open.
else
  main().then(
    (code) => setImmediate(() => process.exit(code)),
    (error: unknown) => {
      process.stderr.write(
        `fleet-agent: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
