// Names for containers nobody named, in docker's style (`brave_turing`):
// easier to say and to type than an id. Unique among live containers; a
// removed container's name is free again.
import { randomInt } from "node:crypto";
import type { TTransaction } from "./placement-lock";

const ADJECTIVES = [
  "agile",
  "brave",
  "calm",
  "clever",
  "crisp",
  "daring",
  "eager",
  "fierce",
  "gentle",
  "happy",
  "jolly",
  "keen",
  "lively",
  "lucid",
  "merry",
  "nimble",
  "noble",
  "patient",
  "proud",
  "quiet",
  "quick",
  "rapid",
  "serene",
  "sharp",
  "shy",
  "steady",
  "stoic",
  "sturdy",
  "sunny",
  "swift",
  "tender",
  "tidy",
  "upbeat",
  "vivid",
  "warm",
  "wise",
  "witty",
  "zealous",
  "bold",
  "cosmic",
];

// People who shaped computing and operating systems.
const SURNAMES = [
  "allen",
  "babbage",
  "backus",
  "bell",
  "cerf",
  "codd",
  "conway",
  "corbato",
  "dijkstra",
  "engelbart",
  "hamilton",
  "hoare",
  "hopper",
  "kahn",
  "kay",
  "knuth",
  "lamport",
  "liskov",
  "lovelace",
  "mccarthy",
  "mcilroy",
  "minsky",
  "moore",
  "naur",
  "neumann",
  "perlman",
  "ritchie",
  "shannon",
  "stallman",
  "sutherland",
  "tanenbaum",
  "thompson",
  "torvalds",
  "turing",
  "wirth",
  "wozniak",
  "yao",
  "zuse",
  "goldberg",
  "pike",
];

function randomName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SURNAMES[randomInt(SURNAMES.length)]}`;
}

/** Names among `names` that a live container already has. */
export async function liveNamesAmong(tx: TTransaction, names: readonly string[]): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  // One array parameter however many names: thousands of replica names stay one bind value.
  const rows = await tx.$queryRaw<{ name: string }[]>`
    SELECT name FROM containers WHERE name = ANY(${[...names]}::text[]) AND removed_at IS NULL`;
  return new Set(rows.map((row) => row.name));
}

/**
 * `count` generated names no live container has, distinct from each other and
 * from `alsoTaken`, with one query per round rather than one per name. Called
 * inside the placement transaction; a concurrent placement elsewhere that
 * picks the same name meets the partial unique index, and its transaction
 * fails and is tried again.
 */
export async function generateContainerNames(
  tx: TTransaction,
  count: number,
  alsoTaken: ReadonlySet<string>,
): Promise<string[]> {
  const names: string[] = [];
  const used = new Set(alsoTaken);
  // 1,600 short names exist; past a few rounds, or for many names at once, a numeric suffix makes room.
  for (let attempt = 0; names.length < count && attempt < 8; attempt++) {
    const short = attempt === 0 && count <= 16;
    const candidates = new Set<string>();
    for (let i = 0; i < (count - names.length) * 2 + 4; i++) {
      const name = short ? randomName() : `${randomName()}_${randomInt(1000, 10_000)}`;
      if (!used.has(name)) candidates.add(name);
    }
    const taken = await liveNamesAmong(tx, [...candidates]);
    for (const name of candidates) {
      if (names.length === count) break;
      if (taken.has(name)) continue;
      names.push(name);
      used.add(name);
    }
  }
  if (names.length < count) throw new Error(`no ${count} free generated container names after 8 rounds`);
  return names;
}
