// `fleet volume …` and `fleet network …` are one command group over a small
// descriptor per kind: both are named objects of one host, so the same name
// can exist on several hosts. Listing follows every page; removing resolves
// each name first and asks for --host when the name alone does not say which
// host's object is meant (before anything is removed).
import type { OptionSpecs } from "../args";
import { CliError, EXIT, UsageError } from "../cli-error";
import { type FleetClient, toCliError } from "../client";
import { type CommandContext, type CommandGroup, defineCommand } from "../command";
import { renderTable } from "../format/table";
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

/** What differs between `fleet volume` and `fleet network`: the API, the columns and the words. */
export interface THostObjectCliKind<T extends THostObject> {
  noun: string;
  plural: string;
  /** The group's line in `fleet --help`. */
  summary: string;
  /** How a container uses one, for `rm --help`: "mounts", "joins". */
  usedVerb: string;
  list(client: FleetClient, query: TListQuery): Promise<TPage<T>>;
  remove(client: FleetClient, id: string): Promise<unknown>;
  create(client: FleetClient, input: { hostId: string; name: string; values: TCreateValues }): Promise<T>;
  /** The name as the engines accept it, checked before anything is sent. */
  nameSchema: TNameSchema;
  /** `ls` columns between HOST/NAME and USED BY. */
  columns: string[];
  cells(object: T): string[];
  createHelp: { details: string[]; options?: OptionSpecs; examples: string[] };
  lsHelp: { details: string[]; examples: string[] };
  rmHelp: { summary: string; examples: string[] };
  examples: string[];
}

type TCreateValues = Readonly<Record<string, string | boolean | string[] | undefined>>;

type TNameSchema = {
  safeParse(value: string): { success: boolean; error?: { issues: { message: string }[] } };
};

export function hostObjectRows<T extends THostObject>(kind: THostObjectCliKind<T>, objects: readonly T[]) {
  return renderTable(
    ["HOST", "NAME", ...kind.columns, "USED BY"],
    objects.map((object) => [object.hostName, object.name, ...kind.cells(object), usedByText(object)]),
  );
}

export function hostObjectGroup<T extends THostObject>(kind: THostObjectCliKind<T>): CommandGroup {
  const { noun, plural } = kind;
  const create = defineCommand({
    spec: {
      name: `${noun} create`,
      summary: `Create a ${noun} on a host`,
      usage: `${kind.createHelp.options ? "[OPTIONS] " : ""}--host HOST NAME`,
      details: kind.createHelp.details,
      options: {
        host: {
          type: "string",
          value: "HOST",
          description: "The host to create it on (name or id; required)",
        },
        ...kind.createHelp.options,
      },
      args: { min: 1, max: 1, what: `the ${noun}'s name is` },
      examples: kind.createHelp.examples,
    },
    async run(context, { values, args }) {
      const name = checkedName(args[0]!, kind.nameSchema, `${noun} name`, `${noun} create`);
      if (!values.host)
        throw new UsageError(`--host is required: a ${noun} lives on one host`, `${noun} create`);
      const { client } = await context.session();
      const host = await resolveHost(client, values.host);
      const created = await kind.create(client, { hostId: host.id, name, values: values as TCreateValues });
      println(context.io.stdout, created.name);
      return EXIT.ok;
    },
  });
  const ls = defineCommand({
    spec: {
      name: `${noun} ls`,
      summary: `List ${plural}`,
      usage: "[OPTIONS]",
      details: kind.lsHelp.details,
      options: {
        host: { type: "string", value: "HOST", description: `Only ${plural} on this host (name or id)` },
        filter: {
          type: "string",
          short: "f",
          multiple: true,
          value: "name=TEXT",
          description: `Only ${plural} whose name contains TEXT`,
        },
        json: { type: "boolean", description: `Print the ${plural} as a JSON array (the API's objects)` },
        quiet: { type: "boolean", short: "q", description: `Print ${noun} names only` },
      },
      args: { min: 0, max: 0, what: "" },
      examples: kind.lsHelp.examples,
    },
    async run(context, { values }) {
      const name = nameFilter(values.filter, `${noun} ls`);
      const { client } = await context.session();
      const hostId = values.host ? (await resolveHost(client, values.host)).id : undefined;
      const objects = await listHostObjects(client, kind, { hostId, name });
      const { stdout } = context.io;
      if (values.json) println(stdout, JSON.stringify(objects, null, 2));
      else if (values.quiet) for (const object of objects) println(stdout, object.name);
      else for (const line of hostObjectRows(kind, objects)) println(stdout, line);
      return EXIT.ok;
    },
  });
  const rm = defineCommand({
    spec: {
      name: `${noun} rm`,
      summary: kind.rmHelp.summary,
      usage: `[OPTIONS] ${noun.toUpperCase()} [${noun.toUpperCase()}...]`,
      details: [
        `Refused (exit 1) while a container that is not removed ${kind.usedVerb} the ${noun}: remove it first.`,
        "A name that exists on several hosts needs --host.",
      ],
      options: {
        host: { type: "string", value: "HOST", description: `The host the ${plural} are on (name or id)` },
      },
      args: { min: 1, max: null, what: `the ${noun}'s name is` },
      examples: kind.rmHelp.examples,
    },
    run: (context, { values, args }) => removeHostObjects(context, kind, args, values.host),
  });
  return {
    name: noun,
    summary: kind.summary,
    commands: [create, ls, rm],
    aliases: { list: "ls", remove: "rm" },
    examples: kind.examples,
  };
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

/** Every page of the list. */
function listHostObjects<T extends THostObject>(
  client: FleetClient,
  kind: THostObjectCliKind<T>,
  filter: { hostId?: string | undefined; name?: string | undefined },
): Promise<T[]> {
  return collectPages((cursor) =>
    kind.list(client, {
      ...(filter.hostId ? { hostId: filter.hostId } : {}),
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
export function checkedName(name: string, schema: TNameSchema, what: string, command: string): string {
  const result = schema.safeParse(name);
  if (!result.success) {
    throw new UsageError(`${what} ${name}: ${result.error?.issues[0]?.message ?? "invalid"}`, command);
  }
  return name;
}

/** `rm`: prints each name removed; each failure on stderr; exit of the first. */
async function removeHostObjects<T extends THostObject>(
  context: CommandContext,
  kind: THostObjectCliKind<T>,
  refs: readonly string[],
  host: string | undefined,
): Promise<number> {
  const { client } = await context.session();
  const onHost = host ? await resolveHost(client, host) : undefined;
  const candidates = await Promise.all(
    [...new Set(refs)].map((ref) => listHostObjects(client, kind, { hostId: onHost?.id, name: ref })),
  );
  const targets = pickRemoveTargets(kind.noun, refs, candidates.flat(), onHost?.name);
  let exitCode: number = EXIT.ok;
  for (const target of targets) {
    try {
      if ("missing" in target) throw new CliError(target.missing, EXIT.notFound);
      await kind.remove(client, target.object.id);
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
