// What a join command names: where hosts reach the central's agent port and
// the key they pin. Declared here, where join commands are made; the app
// server fills it in once the agent port is bound (agent-endpoint/).
import type { TEnv } from "../../env";

export interface TAgentEndpoint {
  /** `https://host:port`, as hosts dial it (FLEET_AGENT_URL, else FLEET_PUBLIC_URL's host and the agent port). */
  publicUrl: string;
  /**
   * `sha256//…` of the served key when the certificate is self-signed and
   * hosts pin it; null when FLEET_TLS_CERT is CA-signed and hosts validate it.
   */
  pin: string | null;
}

export function agentPublicUrl(
  env: Pick<TEnv, "FLEET_AGENT_URL" | "FLEET_PUBLIC_URL">,
  port: number,
): string {
  if (env.FLEET_AGENT_URL) return env.FLEET_AGENT_URL;
  return `https://${new URL(env.FLEET_PUBLIC_URL).hostname}:${port}`;
}
