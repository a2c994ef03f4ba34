// A container's limits on the command line, in docker's spelling (`-m 64m`,
// `--cpus 0.5`, `--pids 100`): checked here so a bad value is a usage error
// naming the flag, and passed on as written for the API to read.
import { parseBytes, parseCpus } from "@fleet/shared/units";
import { integerFlag, type OptionSpecs, type OptionValues, parsedFlag } from "./args";

export const LIMIT_OPTIONS = {
  memory: { type: "string", short: "m", value: "BYTES", description: "Memory limit (64m, 1g)" },
  cpus: { type: "string", value: "CPUS", description: "CPU limit in cores (0.5) or millicores (500m)" },
  pids: { type: "string", value: "N", description: "Process limit" },
} as const satisfies OptionSpecs;

type TLimitFlagValues = OptionValues<typeof LIMIT_OPTIONS>;

/** The limits given, as container.run and deployment.update take them; usage errors name the flag. */
export function limitsOf(
  values: TLimitFlagValues,
  command: string,
): { cpus?: string; memory?: string; pids?: number } {
  parsedFlag(values.memory, "--memory", command, parseBytes);
  parsedFlag(values.cpus, "--cpus", command, parseCpus);
  const pids = integerFlag(values.pids, "--pids", command, { min: 1, max: 4_194_304 });
  return {
    ...(values.cpus !== undefined ? { cpus: values.cpus } : {}),
    ...(values.memory !== undefined ? { memory: values.memory } : {}),
    ...(pids !== undefined ? { pids } : {}),
  };
}
