/**
 * `npm run bench -- [name...] [--flag ...]`: runs `bench/<name>/main.ts` for each name (all when
 * none given), each in its own process; everything from the first argument starting with `-` on
 * is passed to each benchmark (e.g. `npm run bench -- start-latency --engine podman`). A
 * benchmark prints progress on stderr and one JSON object as the last line of stdout; this runner
 * passes both through and exits non-zero if any benchmark failed.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const available = readdirSync(benchDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(path.join(benchDir, d.name, "main.ts")))
  .map((d) => d.name)
  .sort();

const args = process.argv.slice(2).filter((a) => a !== "--");
const firstFlag = args.findIndex((a) => a.startsWith("-"));
const requested = firstFlag < 0 ? args : args.slice(0, firstFlag);
const passed = firstFlag < 0 ? [] : args.slice(firstFlag);
const unknown = requested.filter((n) => !available.includes(n));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(", ")} (available: ${available.join(", ")})`);
  process.exit(2);
}

let failed = 0;
for (const name of requested.length > 0 ? requested : available) {
  console.error(`== bench ${name}`);
  const result = spawnSync(
    process.execPath,
    ["--import", "tsx", path.join(benchDir, name, "main.ts"), ...passed],
    {
      stdio: "inherit",
    },
  );
  if (result.status !== 0) {
    console.error(`bench ${name} failed (exit ${result.status ?? result.signal})`);
    failed++;
  }
}
process.exit(failed > 0 ? 1 : 0);
