// Where `fleet login` keeps the central's URL and the API token:
// `$XDG_CONFIG_HOME/fleet/config.json` (default `~/.config/fleet/config.json`),
// readable by its owner only. FLEET_URL and FLEET_TOKEN override the file,
// each on its own, so CI can run without one.
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { CliError, EXIT } from "./cli-error";

export interface TCliConfig {
  url: string;
  token: string;
  /** Set when `fleet login` created the token, so `fleet logout` may revoke it. */
  tokenId?: string;
}

export type TEnvVars = Record<string, string | undefined>;

export function configPath(env: TEnvVars): string {
  const xdg = env.XDG_CONFIG_HOME?.trim();
  // The XDG spec: a relative XDG_CONFIG_HOME is invalid and is ignored.
  const base = xdg?.startsWith("/") ? xdg : join(env.HOME?.trim() || homedir(), ".config");
  return join(base, "fleet", "config.json");
}

/** `central:3000` → `http://central:3000`; no trailing slash; http(s) only. */
export function normalizeServerUrl(text: string): string {
  const trimmed = text.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(`not a URL: ${text}`, EXIT.usage);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliError(`the central's URL must be http:// or https://, got ${text}`, EXIT.usage);
  }
  if (url.search || url.hash) throw new CliError(`the central's URL takes no query: ${text}`, EXIT.usage);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

export async function readConfigFile(path: string): Promise<TCliConfig | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`, EXIT.failure);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not valid JSON: run \`fleet login\` again`, EXIT.unauthorized);
  }
  const candidate = parsed as Partial<Record<keyof TCliConfig, unknown>> | null;
  if (
    typeof candidate !== "object" ||
    candidate === null ||
    typeof candidate.url !== "string" ||
    typeof candidate.token !== "string"
  ) {
    throw new CliError(`${path} holds no url and token: run \`fleet login\` again`, EXIT.unauthorized);
  }
  return {
    url: candidate.url,
    token: candidate.token,
    ...(typeof candidate.tokenId === "string" ? { tokenId: candidate.tokenId } : {}),
  };
}

/** Writes the file (0600, its directory 0700) through a rename, so a reader never sees half of it. */
export async function writeConfigFile(path: string, config: TCliConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // `mode` applies only when the file is created, and the umask narrows it: set it outright.
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

/** True when there was a file to remove. */
export async function removeConfigFile(path: string): Promise<boolean> {
  try {
    await rm(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw new CliError(`cannot remove ${path}: ${(error as Error).message}`, EXIT.failure);
  }
}

export interface TCredentials {
  url: string;
  token: string;
  /** Where they came from, for messages. */
  source: "env" | "file" | "env+file";
}

/** The URL and token to use, env first; null when either is missing. */
export async function loadCredentials(env: TEnvVars, path: string): Promise<TCredentials | null> {
  const envUrl = env.FLEET_URL?.trim() || undefined;
  const envToken = env.FLEET_TOKEN?.trim() || undefined;
  const file = envUrl && envToken ? null : await readConfigFile(path);
  const url = envUrl ?? file?.url;
  const token = envToken ?? file?.token;
  if (!url || !token) return null;
  const source = !file ? "env" : envUrl || envToken ? "env+file" : "file";
  return { url: normalizeServerUrl(url), token, source };
}
