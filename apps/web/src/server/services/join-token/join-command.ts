// The line an administrator pastes on a new host: fetch the install script
// from the agent port and run it with the token, as kubeadm's join does with
// its discovery hash. With a self-signed certificate (the default) curl pins
// the central's key and so does the agent afterwards; with a CA-signed one
// (FLEET_TLS_CERT) both validate the chain instead.
import type { TLabels } from "@fleet/shared/label-selector";

// Characters a POSIX shell passes through unquoted.
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

function shellQuote(word: string): string {
  return SHELL_SAFE.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

// Always quoted, as people expect to see a pin and so no shell ever reads `//` oddly.
function quoted(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * `curl -fsSLk --pinnedpubkey '<pin>' <agentUrl>/install.sh | sudo sh -s --
 * --join-token <token> --server-pin '<pin>' [--label k=v …]`, labels in key
 * order; without a pin, plain `curl -fsSL` and no `--server-pin`.
 */
export function joinCommand(options: {
  /** `https://host:port` of the agent port, as hosts reach it. */
  agentUrl: string;
  /** `sha256//…` when hosts pin the central's key; null when they validate its certificate. */
  pin: string | null;
  token: string;
  labels: TLabels;
}): string {
  const { agentUrl, pin, token, labels } = options;
  const scriptUrl = shellQuote(`${agentUrl.replace(/\/+$/, "")}/install.sh`);
  const fetch =
    pin === null ? `curl -fsSL ${scriptUrl}` : `curl -fsSLk --pinnedpubkey ${quoted(pin)} ${scriptUrl}`;
  const args = ["--join-token", shellQuote(token)];
  if (pin !== null) args.push("--server-pin", quoted(pin));
  for (const key of Object.keys(labels).sort()) {
    args.push("--label", shellQuote(`${key}=${labels[key] ?? ""}`));
  }
  return `${fetch} | sudo sh -s -- ${args.join(" ")}`;
}
