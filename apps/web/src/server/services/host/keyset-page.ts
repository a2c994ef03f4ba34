// Keyset pagination over a sort chosen by the caller: rows are ordered by a
// list of columns ending in a unique one, and the cursor carries the last
// row's values of those columns, so the next page starts right after it
// (stable while rows are added or removed, unlike offsets, and served by an
// index on the same columns instead of counting past skipped rows).
//
// The cursor names its sort and direction: a cursor handed out for one sort
// is refused for another rather than silently starting somewhere odd.
import { Prisma } from "../../db/client";
import { AppError } from "../../errors";

export type TSortDirection = "asc" | "desc";

/**
 * How a column's value travels in a cursor. Enums order as declared in the
 * database. `sql` is the column's name in SQL and, for an enum, its type.
 */
export type TKeyColumn =
  | { field: string; sql?: string; kind: "string" | "int" | "bigint" | "date" }
  | { field: string; sql?: string; kind: "enum"; order: readonly string[]; sqlType?: string };

export type TKeyValue = string | number | bigint | Date;

const MAX_CURSOR_TEXT = 512;

function encodeValue(column: TKeyColumn, value: unknown): string | number {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string" || typeof value === "number") return value;
  throw new Error(`keyset: ${column.field} holds ${typeof value}, not a sortable value`);
}

function decodeValue(column: TKeyColumn, raw: unknown): TKeyValue | null {
  switch (column.kind) {
    case "string":
      return typeof raw === "string" && raw.length <= MAX_CURSOR_TEXT ? raw : null;
    case "int":
      return typeof raw === "number" && Number.isSafeInteger(raw) ? raw : null;
    case "bigint":
      return typeof raw === "string" && /^-?\d{1,19}$/.test(raw) ? BigInt(raw) : null;
    case "date": {
      if (typeof raw !== "string" || raw.length > 40) return null;
      const date = new Date(raw);
      return Number.isNaN(date.getTime()) || date.toISOString() !== raw ? null : date;
    }
    case "enum":
      return typeof raw === "string" && column.order.includes(raw) ? raw : null;
  }
}

export function encodeKeysetCursor(
  sort: string,
  direction: TSortDirection,
  columns: readonly TKeyColumn[],
  row: Record<string, unknown>,
): string {
  const keys = columns.map((column) => encodeValue(column, row[column.field]));
  return Buffer.from(JSON.stringify({ s: sort, d: direction, k: keys }), "utf8").toString("base64url");
}

const refused = () => new AppError("BAD_REQUEST", "cursor: not a cursor this API handed out for this sort");

export function decodeKeysetCursor(
  cursor: string,
  sort: string,
  direction: TSortDirection,
  columns: readonly TKeyColumn[],
): TKeyValue[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw refused();
  }
  if (typeof parsed !== "object" || parsed === null) throw refused();
  const { s, d, k } = parsed as { s?: unknown; d?: unknown; k?: unknown };
  if (s !== sort || d !== direction || !Array.isArray(k) || k.length !== columns.length) throw refused();
  return columns.map((column, index) => {
    const value = decodeValue(column, k[index]);
    if (value === null) throw refused();
    return value;
  });
}

/** The condition "comes after `value` in this direction" on one column. */
function afterCondition(column: TKeyColumn, value: TKeyValue, direction: TSortDirection): unknown {
  if (column.kind === "enum") {
    // Prisma has no `gt` for enums: the values after this one, in the database's order.
    const at = column.order.indexOf(value as string);
    const later = direction === "asc" ? column.order.slice(at + 1) : column.order.slice(0, at);
    return { in: [...later] };
  }
  return direction === "asc" ? { gt: value } : { lt: value };
}

/**
 * Rows after the cursor's: (c1 > v1) OR (c1 = v1 AND c2 > v2) OR …, every
 * column in the same direction so one index scan in either direction serves it.
 */
export function keysetAfter(
  columns: readonly TKeyColumn[],
  values: readonly TKeyValue[],
  direction: TSortDirection,
): { OR: Record<string, unknown>[] } {
  return {
    OR: columns.map((column, index) => {
      const condition: Record<string, unknown> = {};
      for (let before = 0; before < index; before++) {
        const earlier = columns[before];
        if (earlier) condition[earlier.field] = values[before];
      }
      condition[column.field] = afterCondition(column, values[index] as TKeyValue, direction);
      return condition;
    }),
  };
}

export function keysetOrderBy(
  columns: readonly TKeyColumn[],
  direction: TSortDirection,
): Record<string, TSortDirection>[] {
  return columns.map((column) => ({ [column.field]: direction }));
}

/**
 * Rows after the cursor's as one row comparison, `(c1, c2, …) > (v1, v2, …)`:
 * Postgres starts the index scan right there, where the OR form above makes
 * it read (and filter) every row before the cursor.
 */
export function keysetAfterSql(
  columns: readonly TKeyColumn[],
  values: readonly TKeyValue[],
  direction: TSortDirection,
): Prisma.Sql {
  const names = columns.map((column) => Prisma.raw(`"${column.sql ?? column.field}"`));
  const params = columns.map((column, index) => {
    const value = values[index];
    if (value instanceof Date) return Prisma.sql`${value.toISOString()}::timestamptz`;
    if (typeof value === "bigint") return Prisma.sql`${value.toString()}::bigint`;
    return column.kind === "enum" && column.sqlType
      ? Prisma.sql`${value}::${Prisma.raw(`"${column.sqlType}"`)}`
      : Prisma.sql`${value}`;
  });
  const operator = Prisma.raw(direction === "asc" ? ">" : "<");
  return Prisma.sql`(${Prisma.join(names)}) ${operator} (${Prisma.join(params)})`;
}

export function keysetOrderBySql(columns: readonly TKeyColumn[], direction: TSortDirection): Prisma.Sql {
  const order = direction === "asc" ? "ASC" : "DESC";
  return Prisma.raw(columns.map((column) => `"${column.sql ?? column.field}" ${order}`).join(", "));
}

/** The key columns under their field names, for a query whose last row makes the cursor. */
export function keysetSelectSql(columns: readonly TKeyColumn[]): Prisma.Sql {
  return Prisma.raw(
    columns
      .map((column) => (column.sql ? `"${column.sql}" AS "${column.field}"` : `"${column.field}"`))
      .join(", "),
  );
}
