// What one kind of host object brings to the shared services: a named object
// of one host (a volume, a network), created, listed and removed through that
// host's agent and refused while a container uses it. A kind names its table
// and agent operations, reads and writes its own columns, and supplies the
// words for messages; the services in this folder do everything else, so a
// new kind is one descriptor (and its agent operations).
import type { Prisma, PrismaClient } from "../../db/client";
import type { AgentOperations } from "../agent/agent-operations";

export type TDb = PrismaClient | Prisma.TransactionClient;
type TGateway = Pick<AgentOperations, "request">;

/** The where clauses the shared services write: any host-object table accepts them. */
export interface THostObjectWhere {
  AND?: THostObjectWhere[];
  OR?: THostObjectWhere[];
  id?: string | { gt: string };
  hostId?: string;
  name?: string | { gt?: string; contains?: string; mode?: "insensitive"; notIn?: string[] };
  host?: { removedAt?: null; name?: string | { gt: string } };
}

/** The order of lists and of their cursor. */
export const HOST_OBJECT_ORDER = [{ host: { name: "asc" } }, { name: "asc" }, { id: "asc" }] as const;

/** A row as its kind reads it, before the containers using it are added. */
export interface THostObjectItem {
  id: string;
  hostId: string;
  hostName: string;
  name: string;
}

/** What the engine reports of one object (created or listed). */
export interface THostObjectSummary {
  name: string;
  createdAt: string | null;
}

/** What the queries about users of an object need: the noun for messages and the kind's SQL. */
export interface THostObjectKindBase {
  /** One word, in messages and event kinds (`volume.removed`). */
  noun: string;
  sql: {
    table: Prisma.Sql;
    /**
     * The names container `c` uses, as a subquery with a `name` column,
     * read from its JSON spec. Finding users and in-use names goes through it.
     */
    usedNames: Prisma.Sql;
  };
}

export interface THostObjectKind<
  TItem extends THostObjectItem,
  TSummary extends THostObjectSummary,
  TCreate extends object,
  TNoun extends string = string,
> extends THostObjectKindBase {
  noun: TNoun;
  /** For messages about refreshing: "volumes". */
  plural: string;
  /** Rows of the kind's table in HOST_OBJECT_ORDER, read as items. */
  find(db: TDb, args: { where: THostObjectWhere; take?: number }): Promise<TItem[]>;
  deleteMany(db: TDb, where: THostObjectWhere): Promise<unknown>;
  /** Writes what the engine reported; `upsertHostObject` builds the arguments. */
  upsert(db: TDb, hostId: string, summary: TSummary, now: Date): Promise<unknown>;
  /** The agent's operations, with their timeouts. */
  agent: {
    create(gateway: TGateway, hostId: string, name: string, options: TCreate): Promise<TSummary>;
    list(gateway: TGateway, hostId: string): Promise<TSummary[]>;
    remove(gateway: TGateway, hostId: string, name: string): Promise<unknown>;
  };
  /** Which listed objects are stored (default: all). */
  stores?(summary: TSummary): boolean;
  /** What the created event says beyond the name: words before the noun and data. */
  created?(options: TCreate): { adjective: string; data: Prisma.InputJsonObject };
}

/** Any kind, where its own types do not matter (refreshing, removing). */
export type TSomeHostObjectKind = THostObjectKind<THostObjectItem, THostObjectSummary, never>;

/** The upsert arguments for a summary: the kind's columns, and the creation time when it is new. */
export function upsertHostObject<TData extends object>(
  hostId: string,
  summary: THostObjectSummary,
  now: Date,
  data: TData,
) {
  return {
    where: { hostId_name: { hostId, name: summary.name } },
    create: {
      hostId,
      name: summary.name,
      createdAt: summary.createdAt ? new Date(summary.createdAt) : now,
      ...data,
    },
    update: data,
  };
}
