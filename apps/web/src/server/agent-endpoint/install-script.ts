/**
 * `GET /install.sh`: install.sh beside this file with the central's agent
 * URL, its key's pin and the agent executable's sha256 written in. Nothing
 * else goes in, and each value is checked against a strict pattern first,
 * so what a host pipes into `sh` is the reviewed script plus three plain
 * words. No secret is in it: the join token is an argument on the host.
 *
 * May import: node built-ins, @fleet/shared/server-pin, ../db/project-paths.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SERVER_PIN_PATTERN } from "@fleet/shared/server-pin";
import { findProjectPath } from "../db/project-paths";

export const INSTALL_SCRIPT_PATH = "/install.sh";

const PLACEHOLDERS = {
  serverUrl: "{{SERVER_URL}}",
  pin: "{{SERVER_PIN}}",
  agentSha256: "{{AGENT_SHA256}}",
} as const;

// https://host[:port] with a DNS name, an IPv4 address or a bracketed IPv6 address.
const AGENT_URL =
  /^https:\/\/(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The template, read once. From this module's folder when run from source;
 * a build that bundles the central must carry install.sh along (found then
 * through the checkout, as prisma/ is).
 */
export function readInstallScriptTemplate(): string {
  const beside = join(fileURLToPath(new URL(".", import.meta.url)), "install.sh");
  try {
    return checkTemplate(readFileSync(beside, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  return checkTemplate(
    readFileSync(findProjectPath("apps/web/src/server/agent-endpoint/install.sh"), "utf8"),
  );
}

function checkTemplate(template: string): string {
  for (const placeholder of Object.values(PLACEHOLDERS)) {
    if (template.split(placeholder).length !== 2) {
      throw new Error(`install.sh must hold ${placeholder} exactly once`);
    }
  }
  return template;
}

export function renderInstallScript(
  template: string,
  values: {
    /** https://host:port of the agent port, as hosts reach it. */
    serverUrl: string;
    /** `sha256//…`, or null when the central's certificate is CA-signed (hosts validate it instead). */
    pin: string | null;
    agentSha256: string;
  },
): string {
  if (!AGENT_URL.test(values.serverUrl))
    throw new Error(`not an agent URL for install.sh: ${values.serverUrl}`);
  if (values.pin !== null && !SERVER_PIN_PATTERN.test(values.pin)) throw new Error("not a server pin");
  if (!SHA256_HEX.test(values.agentSha256)) throw new Error("not a sha256");
  return checkTemplate(template)
    .replace(PLACEHOLDERS.serverUrl, () => values.serverUrl)
    .replace(PLACEHOLDERS.pin, () => values.pin ?? "")
    .replace(PLACEHOLDERS.agentSha256, () => values.agentSha256);
}
