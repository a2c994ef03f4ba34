/**
 * The `fleet-agent` process: reads the configuration, finds the engine,
 * starts the agent and stops it cleanly on SIGTERM/SIGINT (containers keep
 * running). Exit codes: 0 after a signal, 1 on a fatal error, 2 on a
 * configuration error.
 */
import { readFile } from "node:fs/promises";
import { pino } from "pino";
import { Agent } from "./agent";
import { ConfigError, parseProcessConfig, redactConfig } from "./config";
import { JoinRejectedError } from "./link/agent-link";
import { cgroupMetricsSource, kmsgOomSource } from "./metrics-source";
import { EngineDriver } from "./runtime/engine/engine-driver";
import { discoverEngine } from "./runtime/engine-discovery";
import { StateStore, StateStoreError } from "./state-store";
import { AGENT_COMMIT, AGENT_VERSION, agentVersionLine } from "./version";

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

  let agent: Agent;
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
    const fingerprint = await driver.fingerprint();
    agent = new Agent({
      config,
      driver,
      store: new StateStore(config.stateDir),
      log,
      agentVersion: AGENT_VERSION,
      caPem,
      metrics: cgroupMetricsSource({ diskPath: fingerprint.dataRoot, log }),
      kernelOoms: kmsgOomSource({ log }),
    });
  } catch (error) {
    log.fatal({ err: error }, `cannot start: ${(error as Error).message}`);
    return 1;
  }

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    signalled = true;
    log.info({ signal }, "signal received");
    void agent.stop();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  try {
    await agent.start();
    await agent.done;
    return 0;
  } catch (error) {
    if (signalled) return 0;
    if (error instanceof StateStoreError) {
      log.fatal({ err: error }, error.message);
      return 2;
    }
    if (error instanceof JoinRejectedError) return 1; // the link already logged it
    log.fatal({ err: error }, `fleet-agent failed: ${(error as Error).message}`);
    await agent.stop().catch(() => {});
    return 1;
  }
}

// pino writes stdout synchronously, so exiting right away loses no log line; it also ends
// keep-alive sockets to the engine that would otherwise hold the process open.
main().then(
  (code) => setImmediate(() => process.exit(code)),
  (error: unknown) => {
    process.stderr.write(
      `fleet-agent: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
