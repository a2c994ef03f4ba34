/**
 * `tsx scripts/build/main.ts [--if-stale] [target...]`: builds the named
 * targets (prisma-client, dashboard, central, agent, cli; all when none is named). With
 * --if-stale a target whose outputs are current is left alone. The
 * workspaces' `build` scripts call it for their part; `npm run up` calls it
 * with --if-stale, the test harness calls buildTargets directly.
 */
import { buildTargets } from "./build";
import { TARGET_NAMES, type TTargetName } from "./targets";

const say = (line: string) => process.stderr.write(`build: ${line}\n`);

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const ifStale = args.includes("--if-stale");
  const names = args.filter((a) => !a.startsWith("-"));
  const unknown = names.filter((n) => !(TARGET_NAMES as readonly string[]).includes(n));
  const flags = args.filter((a) => a.startsWith("-") && a !== "--if-stale");
  if (unknown.length > 0 || flags.length > 0) {
    say(`unknown ${unknown.length > 0 ? `target ${unknown.join(", ")}` : `flag ${flags.join(", ")}`}`);
    say(`usage: build [--if-stale] [${TARGET_NAMES.join("|")}]...`);
    process.exit(2);
  }
  await buildTargets(names.length > 0 ? (names as TTargetName[]) : TARGET_NAMES, { ifStale });
}

main().catch((error: unknown) => {
  say(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
