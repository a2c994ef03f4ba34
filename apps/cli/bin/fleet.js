#!/usr/bin/env node
// Runs the CLI's TypeScript entry point through tsx, so no build step is needed.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/main.ts");
await main();
