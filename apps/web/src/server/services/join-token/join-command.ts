// The line an administrator pastes on a new host.
import type { TLabels } from "@fleet/shared/label-selector";

// Characters a POSIX shell passes through unquoted.
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

function shellQuote(word: string): string {
  return SHELL_SAFE.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `fleet-agent --server <url> --join-token <token> [--label k=v …]`, labels in key order. */
export function joinCommand(options: { serverUrl: string; token: string; labels: TLabels }): string {
  const words = ["fleet-agent", "--server", options.serverUrl, "--join-token", options.token];
  for (const key of Object.keys(options.labels).sort()) {
    words.push("--label", `${key}=${options.labels[key] ?? ""}`);
  }
  return words.map(shellQuote).join(" ");
}
