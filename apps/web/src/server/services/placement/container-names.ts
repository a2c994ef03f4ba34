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
  const rows = await tx.container.findMany({
    where: { name: { in: [...names] }, removedAt: null },
    select: { name: true },
  });
  return new Set(rows.map((row) => row.name));
}

/**
 * A generated name no live container has. Called inside the placement
 * transaction, which holds the host locks, so two concurrent runs cannot both
 * pick the same free name; the partial unique index backs that up.
 */
export async function generateContainerName(
  tx: TTransaction,
  alsoTaken: ReadonlySet<string>,
): Promise<string> {
  for (let attempt = 0; attempt < 4; attempt++) {
    const candidates = Array.from({ length: 8 }, () =>
      attempt === 0 ? randomName() : `${randomName()}_${randomInt(1000, 10_000)}`,
    ).filter((name) => !alsoTaken.has(name));
    const taken = await liveNamesAmong(tx, candidates);
    const free = candidates.find((name) => !taken.has(name));
    if (free) return free;
  }
  throw new Error("no free generated container name after 32 tries");
}
