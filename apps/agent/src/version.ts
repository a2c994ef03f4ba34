import { readFileSync } from "node:fs";

/** The agent's version, as its package.json says; sent in `hello` and the host facts. */
export const AGENT_VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;
