// What `fleet volume` and `fleet network` share: both are named objects of
// one host, so the same name can exist on several hosts. Listing follows every
// page; removing resolves each name first and asks for --host when the name
// alone does not say which host's object is meant (before anything is removed).
import { CliError, EXIT, UsageError } from "../cli-error";
import { type FleetClient, toCliError } from "../client";
import type { CommandContext } from "../command";
import { println } from "../io";
import { collectPages, PAGE_SIZE, resolveHost, type TPage } from "../resolve";

export interface THostObject {
  id: string;
  hostId: string;
  hostName: string;
  name: string;
  usedBy: { id: string; name: string }[];
}

export interface TListQuery {
  hostId?: string;
  name?: string;
  cursor: string | null;
  limit: number;
}

export interface HostObjectApi<T extends THostObject> {
  noun: "volume" | "network";
  list(client: FleetClient, query: TListQuery): Promise<TPage<T>>;
  remove(client: FleetClient, id: string): Promise<unknown>;
}

/** The containers using it, as the USED BY column shows them. */
export function usedByText(object: THostObject): string {
  return object.usedBy.length > 0 ? object.usedBy.map((container) => container.name).join(",") : "-";
}

/** docker's `--filter name=…` (the only filter the API has): the name part, or a usage error. */
export function nameFilter(filters: readonly string[] | undefined, command: string): string | undefined {
  let name: string | undefined;
  for (const filter of filters ?? []) {
    const match = /^name=(.+)$/.exec(filter);
    if (!match) throw new UsageError(`--filter ${filter}: only name=TEXT is supported`, command);
    name = match[1]!;
  }
  return name;
}

export async function listHostObjects<T extends THostObject>(
  client: FleetClient,
  api: HostObjectApi<T>,
  filter: { host?: string | undefined; name?: string | undefined },
): Promise<T[]> {
  const hostId = filter.host ? (await resolveHost(client, filter.host)).id : undefined;
  return collectPages((cursor) =>
    api.list(client, {
      ...(hostId ? { hostId } : {}),
      ...(filter.name ? { name: filter.name } : {}),
      cursor,
      limit: PAGE_SIZE,
    }),
  );
}

export type TRemoveTarget<T> = { ref: string; object: T } | { ref: string; missing: string };

/**
 * Which object each name means: exactly that name (the API's filter is a
 * substring), on --host when given. A name on several hosts is a usage error
 * listing them, so `rm` never guesses which host's data to delete.
 */
export function pickRemoveTargets<T extends THostObject>(
  noun: string,
  refs: readonly string[],
  candidates: readonly T[],
  hostName: string | undefined,
): TRemoveTarget<T>[] {
  return refs.map((ref) => {
    const named = candidates.filter((object) => object.name === ref || object.id === ref);
    if (named.length === 0) {
      return { ref, missing: `no ${noun} named ${ref}${hostName ? ` on ${hostName}` : ""}` };
    }
    if (named.length > 1) {
      const hosts = named.map((object) => object.hostName).sort();
      throw new UsageError(
        `${noun} ${ref} is on ${named.length} hosts (${hosts.join(", ")}): say which with --host`,
        `${noun} rm`,
      );
    }
    return { ref, object: named[0]! };
  });
}

/** A volume or network name as the engines accept it, checked before anything is sent. */
export function checkedName(
  name: string,
  schema: { safeParse(value: string): { success: boolean; error?: { issues: { message: string }[] } } },
  what: string,
  command: string,
): string {
  const result = schema.safeParse(name);
  if (!result.success) {
    throw new UsageError(`${what} ${name}: ${result.error?.issues[0]?.message ?? "invalid"}`, command);
  }
  return name;
}

/** `rm` for volumes and networks: prints each name removed; each failure on stderr; exit of the first. */
export async function removeHostObjects<T extends THostObject>(
  context: CommandContext,
  api: HostObjectApi<T>,
  refs: readonly string[],
  host: string | undefined,
): Promise<number> {
  const { client } = await context.session();
  const hostObject = host ? await resolveHost(client, host) : undefined;
  const candidates = (
    await Promise.all(
      [...new Set(refs)].map((ref) =>
        collectPages((cursor) =>
          api.list(client, {
            ...(hostObject ? { hostId: hostObject.id } : {}),
            name: ref,
            cursor,
            limit: PAGE_SIZE,
          }),
        ),
      ),
    )
  ).flat();
  const targets = pickRemoveTargets(api.noun, refs, candidates, hostObject?.name);
  return forEachTarget(context, targets, (object) => api.remove(client, object.id));
}

async function forEachTarget<T extends THostObject>(
  context: CommandContext,
  targets: readonly TRemoveTarget<T>[],
  act: (object: T) => Promise<unknown>,
): Promise<number> {
  let exitCode: number = EXIT.ok;
  for (const target of targets) {
    try {
      if ("missing" in target) throw new CliError(target.missing, EXIT.notFound);
      await act(target.object);
      println(context.io.stdout, target.ref);
    } catch (error) {
      const failure = toCliError(error, context.url ?? "the central");
      if (failure.exitCode === EXIT.unauthorized) throw failure;
      println(context.io.stderr, `fleet: ${target.ref}: ${failure.message}`);
      if (exitCode === EXIT.ok) exitCode = failure.exitCode;
    }
  }
  return exitCode;
}
