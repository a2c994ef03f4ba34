// Turning what a person typed (a name, a full id, the short id a table
// showed, or part of a name) into the one container or host it means, the
// way docker does: an exact id or name wins, then a unique id prefix or
// suffix, then a unique part of a name; more than one candidate is an error
// that lists them, none is "not found" (exit 4).
import type { TContainer, THost } from "./api-types";
import { CliError, EXIT } from "./cli-error";
import type { FleetClient } from "./client";
import { shortId } from "./format/format";

export interface TNamed {
  id: string;
  name: string;
}

export type TMatch<T> =
  | { kind: "found"; item: T }
  | { kind: "ambiguous"; candidates: T[] }
  | { kind: "none" };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Short enough to type, long enough not to match half the fleet. */
const MIN_ID_FRAGMENT = 4;

export function looksLikeFullId(ref: string): boolean {
  return UUID.test(ref);
}

function idFragment(ref: string): string | null {
  const hex = ref.toLowerCase().replaceAll("-", "");
  return /^[0-9a-f]+$/.test(hex) && hex.length >= MIN_ID_FRAGMENT ? hex : null;
}

function decide<T>(candidates: T[]): TMatch<T> | null {
  if (candidates.length === 1) return { kind: "found", item: candidates[0]! };
  if (candidates.length > 1) return { kind: "ambiguous", candidates };
  return null;
}

/** The pure rule, over candidates already fetched (deduplicated by id). */
export function matchByIdOrName<T extends TNamed>(ref: string, items: readonly T[]): TMatch<T> {
  const unique = [...new Map(items.map((item) => [item.id, item])).values()];
  const byId = unique.find((item) => item.id === ref);
  if (byId) return { kind: "found", item: byId };
  const exactName = decide(unique.filter((item) => item.name === ref));
  if (exactName) return exactName;
  const fragment = idFragment(ref);
  if (fragment) {
    const byFragment = decide(
      unique.filter((item) => {
        const hex = item.id.toLowerCase().replaceAll("-", "");
        return hex.startsWith(fragment) || hex.endsWith(fragment);
      }),
    );
    if (byFragment) return byFragment;
  }
  const lower = ref.toLowerCase();
  return decide(unique.filter((item) => item.name.toLowerCase().includes(lower))) ?? { kind: "none" };
}

const MAX_CANDIDATES_SHOWN = 10;

/** The match's item, or the error a person sees (ambiguous: exit 1 with the candidates; none: exit 4). */
export function expectOne<T extends TNamed>(match: TMatch<T>, ref: string, noun: string): T {
  if (match.kind === "found") return match.item;
  if (match.kind === "none") throw new CliError(`no ${noun} matches ${ref}`, EXIT.notFound);
  const shown = match.candidates
    .slice(0, MAX_CANDIDATES_SHOWN)
    .map((item) => `${shortId(item.id)} ${item.name}`);
  const more = match.candidates.length - shown.length;
  throw new CliError(
    `${ref} matches ${match.candidates.length} ${noun}s, name one of them exactly:\n  ${shown.join("\n  ")}${more > 0 ? `\n  … and ${more} more` : ""}`,
    EXIT.failure,
  );
}

export interface TPage<T> {
  items: T[];
  nextCursor: string | null;
}

/** Follows `nextCursor` until the last page or `max` items. */
export async function collectPages<T>(
  fetchPage: (cursor: string | null) => Promise<TPage<T>>,
  max = Number.POSITIVE_INFINITY,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page: TPage<T> = await fetchPage(cursor);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < max);
  return items.slice(0, max);
}

export const PAGE_SIZE = 200;

export function listAllHosts(client: FleetClient): Promise<THost[]> {
  return collectPages((cursor) => client.host.list.query({ cursor, limit: PAGE_SIZE }));
}

export async function resolveHost(client: FleetClient, ref: string): Promise<THost> {
  return expectOne(matchByIdOrName(ref, await listAllHosts(client)), ref, "host");
}

/** The container `ref` names, among those not removed. */
export async function resolveContainer(client: FleetClient, ref: string): Promise<TContainer> {
  if (looksLikeFullId(ref)) return (await client.container.get.query({ id: ref })).container;
  const byName = await collectPages((cursor) =>
    client.container.list.query({ name: ref, cursor, limit: PAGE_SIZE }),
  );
  // Only a hex fragment can be part of an id: then every container is a candidate.
  const all = idFragment(ref)
    ? await collectPages((cursor) => client.container.list.query({ cursor, limit: PAGE_SIZE }))
    : [];
  return expectOne(matchByIdOrName(ref, [...byName, ...all]), ref, "container");
}
