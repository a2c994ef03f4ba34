// Compares prisma/schema.prisma with a live database. Migrations are written
// by hand (Prisma's schema engine cannot run here), so this is what proves that
// every model, field, enum, key, index and foreign key the client relies on
// exists with a compatible type. It checks the schema → database direction
// only: extra tables, columns or indexes (partitions, partial indexes) are
// allowed.
import pg from "pg";
import { defaultSchemaPath } from "../project-paths";
import {
  readPrismaDatamodel,
  type TDatamodelField,
  type TDatamodelModel,
  type TPrismaDatamodel,
} from "./prisma-datamodel";

export type SchemaDifferenceKind =
  | "missing-table"
  | "missing-column"
  | "column-type"
  | "column-nullability"
  | "missing-enum"
  | "missing-enum-value"
  | "missing-index"
  | "index-mismatch"
  | "missing-foreign-key"
  | "foreign-key-mismatch";

export interface SchemaDifference {
  kind: SchemaDifferenceKind;
  // The database object: table, "table.column", enum type, or index/constraint name.
  object: string;
  expected: string;
  actual: string;
}

export interface FindSchemaDriftOptions {
  databaseUrl: string;
  schemaPath?: string;
  datamodel?: TPrismaDatamodel;
}

export interface DbColumn {
  table_name: string;
  column_name: string;
  not_null: boolean;
  formatted_type: string;
  type_name: string;
  element_type_name: string | null;
}

export interface DbIndex {
  index_name: string;
  table_name: string;
  is_unique: boolean;
  is_primary: boolean;
  is_partial: boolean;
  columns: string[];
}

export interface DbForeignKey {
  constraint_name: string;
  table_name: string;
  referenced_table: string;
  columns: string[];
  referenced_columns: string[];
  on_delete: string;
}

const COLUMNS_QUERY = `
SELECT c.relname AS table_name,
       a.attname AS column_name,
       a.attnotnull AS not_null,
       format_type(a.atttypid, a.atttypmod) AS formatted_type,
       t.typname::text AS type_name,
       et.typname::text AS element_type_name
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')`;

const TABLES_QUERY = `
SELECT c.relname AS table_name
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')`;

const ENUMS_QUERY = `
SELECT t.typname::text AS type_name,
       array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
  FROM pg_type t
  JOIN pg_namespace n ON n.oid = t.typnamespace
  JOIN pg_enum e ON e.enumtypid = t.oid
 WHERE n.nspname = current_schema()
 GROUP BY t.typname`;

const INDEXES_QUERY = `
SELECT ic.relname AS index_name,
       tc.relname AS table_name,
       i.indisunique AS is_unique,
       i.indisprimary AS is_primary,
       i.indpred IS NOT NULL AS is_partial,
       ARRAY(SELECT a.attname::text
               FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, position)
               JOIN pg_attribute a ON a.attrelid = tc.oid AND a.attnum = k.attnum
              ORDER BY k.position) AS columns
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class tc ON tc.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = tc.relnamespace
 WHERE n.nspname = current_schema()`;

const FOREIGN_KEYS_QUERY = `
SELECT con.conname AS constraint_name,
       c.relname AS table_name,
       rc.relname AS referenced_table,
       ARRAY(SELECT a.attname::text
               FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, position)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
              ORDER BY k.position) AS columns,
       ARRAY(SELECT a.attname::text
               FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, position)
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
              ORDER BY k.position) AS referenced_columns,
       con.confdeltype::text AS on_delete
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid
  JOIN pg_class rc ON rc.oid = con.confrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND con.contype = 'f'`;

// pg_constraint.confdeltype codes for Prisma's referential actions.
const ON_DELETE_CODES: Record<string, string> = {
  Cascade: "c",
  Restrict: "r",
  NoAction: "a",
  SetNull: "n",
  SetDefault: "d",
};

type TypeMatcher = string | RegExp;

// Compatible column types for a scalar without @db.*: what Prisma creates, plus
// varchar for String and either timestamp flavour for DateTime.
const SCALAR_TYPES: Record<string, TypeMatcher[]> = {
  String: ["text", /^character varying(\(\d+\))?$/],
  Int: ["integer"],
  BigInt: ["bigint"],
  Float: ["double precision"],
  Boolean: ["boolean"],
  DateTime: [/^timestamp(\(\d\))? with(out)? time zone$/],
  Json: ["jsonb"],
  Decimal: [/^numeric(\(\d+,\d+\))?$/],
  Bytes: ["bytea"],
};

function withPrecision(base: string, args: string[], zone: string): string {
  return args[0] === undefined ? `${base} ${zone}` : `${base}(${args[0]}) ${zone}`;
}

// @db.* native types of the postgresql connector, as format_type() prints them.
const NATIVE_TYPES: Record<string, (args: string[]) => string> = {
  Text: () => "text",
  VarChar: (args) => (args[0] === undefined ? "character varying" : `character varying(${args[0]})`),
  Char: (args) => `character(${args[0] ?? 1})`,
  Uuid: () => "uuid",
  Xml: () => "xml",
  Inet: () => "inet",
  Citext: () => "citext",
  Boolean: () => "boolean",
  Integer: () => "integer",
  SmallInt: () => "smallint",
  Oid: () => "oid",
  BigInt: () => "bigint",
  DoublePrecision: () => "double precision",
  Real: () => "real",
  Decimal: (args) => (args.length === 0 ? "numeric" : `numeric(${args.join(",")})`),
  Money: () => "money",
  Timestamp: (args) => withPrecision("timestamp", args, "without time zone"),
  Timestamptz: (args) => withPrecision("timestamp", args, "with time zone"),
  Date: () => "date",
  Time: (args) => withPrecision("time", args, "without time zone"),
  Timetz: (args) => withPrecision("time", args, "with time zone"),
  Json: () => "json",
  JsonB: () => "jsonb",
  ByteA: () => "bytea",
  Bit: (args) => `bit(${args[0] ?? 1})`,
  VarBit: (args) => (args[0] === undefined ? "bit varying" : `bit varying(${args[0]})`),
};

function describeMatchers(matchers: TypeMatcher[]): string {
  return matchers.map((matcher) => (typeof matcher === "string" ? matcher : matcher.source)).join(" | ");
}

function tableName(model: TDatamodelModel): string {
  return model.dbName ?? model.name;
}

function columnName(model: TDatamodelModel, fieldName: string): string {
  const field = model.fields.find((candidate) => candidate.name === fieldName);
  return field?.dbName ?? fieldName;
}

// Prisma's default constraint names, truncated to Postgres' 63-byte limit the
// way Prisma does: the table/column part is cut, the suffix kept.
function defaultConstraintName(table: string, columns: string[], suffix: string): string {
  const base = [table, ...columns].join("_");
  return `${base.slice(0, 63 - suffix.length - 1)}_${suffix}`;
}

export async function findSchemaDrift(options: FindSchemaDriftOptions): Promise<SchemaDifference[]> {
  const datamodel = options.datamodel ?? readPrismaDatamodel(options.schemaPath ?? defaultSchemaPath());
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    // One snapshot of the catalog, read in a single read-only transaction.
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const tables = await client.query<{ table_name: string }>(TABLES_QUERY);
    const columns = await client.query<DbColumn>(COLUMNS_QUERY);
    const enums = await client.query<{ type_name: string; labels: string[] }>(ENUMS_QUERY);
    const indexes = await client.query<DbIndex>(INDEXES_QUERY);
    const foreignKeys = await client.query<DbForeignKey>(FOREIGN_KEYS_QUERY);
    await client.query("COMMIT");
    return compareDatamodel(datamodel, {
      tables: new Set(tables.rows.map((row) => row.table_name)),
      columns: columns.rows,
      enums: new Map(enums.rows.map((row) => [row.type_name, row.labels])),
      indexes: indexes.rows,
      foreignKeys: foreignKeys.rows,
    });
  } finally {
    await client.end();
  }
}

export interface DatabaseCatalog {
  tables: Set<string>;
  columns: DbColumn[];
  enums: Map<string, string[]>;
  indexes: DbIndex[];
  foreignKeys: DbForeignKey[];
}

export function compareDatamodel(datamodel: TPrismaDatamodel, catalog: DatabaseCatalog): SchemaDifference[] {
  const differences: SchemaDifference[] = [];
  const enumTypeNames = new Map(datamodel.enums.map((item) => [item.name, item.dbName ?? item.name]));

  for (const item of datamodel.enums) {
    const typeName = item.dbName ?? item.name;
    const labels = catalog.enums.get(typeName);
    if (!labels) {
      differences.push({
        kind: "missing-enum",
        object: typeName,
        expected: `enum ${item.name}`,
        actual: "absent",
      });
      continue;
    }
    for (const value of item.values) {
      const label = value.dbName ?? value.name;
      if (!labels.includes(label)) {
        differences.push({
          kind: "missing-enum-value",
          object: `${typeName}.${label}`,
          expected: `value '${label}'`,
          actual: `values ${labels.join(", ")}`,
        });
      }
    }
  }

  const columnsByTable = new Map<string, Map<string, DbColumn>>();
  for (const column of catalog.columns) {
    let byName = columnsByTable.get(column.table_name);
    if (!byName) {
      byName = new Map();
      columnsByTable.set(column.table_name, byName);
    }
    byName.set(column.column_name, column);
  }

  const modelsByName = new Map(datamodel.models.map((model) => [model.name, model]));
  const missingTables = new Set<string>();

  for (const model of datamodel.models) {
    const table = tableName(model);
    if (!catalog.tables.has(table)) {
      // Its columns, keys and indexes are missing too; one entry says it all.
      missingTables.add(table);
      differences.push({
        kind: "missing-table",
        object: table,
        expected: `table for model ${model.name}`,
        actual: "absent",
      });
      continue;
    }
    const dbColumns = columnsByTable.get(table) ?? new Map<string, DbColumn>();
    for (const field of model.fields) {
      if (field.kind !== "scalar" && field.kind !== "enum") continue;
      const column = field.dbName ?? field.name;
      const actual = dbColumns.get(column);
      const object = `${table}.${column}`;
      if (!actual) {
        differences.push({
          kind: "missing-column",
          object,
          expected: `column for ${model.name}.${field.name}`,
          actual: "absent",
        });
        continue;
      }
      const typeDifference = compareColumnType(field, actual, enumTypeNames);
      if (typeDifference) differences.push({ kind: "column-type", object, ...typeDifference });
      // Prisma creates scalar-list columns nullable (an absent list reads as
      // empty), so only non-list fields have a nullability to compare.
      if (!field.isList && field.isRequired !== actual.not_null) {
        differences.push({
          kind: "column-nullability",
          object,
          expected: field.isRequired ? "NOT NULL" : "nullable",
          actual: actual.not_null ? "NOT NULL" : "nullable",
        });
      }
    }
  }

  const indexesByName = new Map(catalog.indexes.map((index) => [index.index_name, index]));
  for (const index of datamodel.indexes) {
    const model = modelsByName.get(index.model);
    if (!model || missingTables.has(tableName(model))) continue;
    const table = tableName(model);
    const columns = index.fields.map((field) => columnName(model, field.name));
    const suffix = index.type === "id" ? "pkey" : index.type === "unique" ? "key" : "idx";
    const name =
      index.dbName ?? (index.type === "id" ? `${table}_pkey` : defaultConstraintName(table, columns, suffix));
    const expected = `${index.type === "id" ? "primary key" : index.type === "unique" ? "unique index" : "index"} on ${table}(${columns.join(", ")})`;
    const actual = indexesByName.get(name);
    if (!actual || actual.table_name !== table) {
      differences.push({ kind: "missing-index", object: name, expected, actual: "absent" });
      continue;
    }
    const sameShape =
      actual.columns.join(",") === columns.join(",") &&
      actual.is_primary === (index.type === "id") &&
      actual.is_unique === (index.type !== "normal" && index.type !== "fulltext") &&
      !actual.is_partial;
    if (!sameShape) {
      const kind = actual.is_primary ? "primary key" : actual.is_unique ? "unique index" : "index";
      differences.push({
        kind: "index-mismatch",
        object: name,
        expected,
        actual: `${actual.is_partial ? "partial " : ""}${kind} on ${actual.table_name}(${actual.columns.join(", ")})`,
      });
    }
  }

  const foreignKeysByName = new Map(catalog.foreignKeys.map((key) => [key.constraint_name, key]));
  for (const model of datamodel.models) {
    const table = tableName(model);
    if (missingTables.has(table)) continue;
    for (const field of model.fields) {
      if (field.kind !== "object" || !field.relationFromFields?.length) continue;
      const target = modelsByName.get(field.type);
      if (!target) continue;
      const columns = field.relationFromFields.map((name) => columnName(model, name));
      const referencedColumns = (field.relationToFields ?? []).map((name) => columnName(target, name));
      const required = field.relationFromFields.every(
        (name) => model.fields.find((candidate) => candidate.name === name)?.isRequired,
      );
      const onDelete = field.relationOnDelete ?? (required ? "Restrict" : "SetNull");
      const name = defaultConstraintName(table, columns, "fkey");
      const expected = `${table}(${columns.join(", ")}) → ${tableName(target)}(${referencedColumns.join(", ")}) ON DELETE ${onDelete}`;
      const actual = foreignKeysByName.get(name);
      if (!actual) {
        differences.push({ kind: "missing-foreign-key", object: name, expected, actual: "absent" });
        continue;
      }
      const matches =
        actual.table_name === table &&
        actual.referenced_table === tableName(target) &&
        actual.columns.join(",") === columns.join(",") &&
        actual.referenced_columns.join(",") === referencedColumns.join(",") &&
        actual.on_delete === ON_DELETE_CODES[onDelete];
      if (!matches) {
        const action = Object.entries(ON_DELETE_CODES).find(([, code]) => code === actual.on_delete)?.[0];
        differences.push({
          kind: "foreign-key-mismatch",
          object: name,
          expected,
          actual: `${actual.table_name}(${actual.columns.join(", ")}) → ${actual.referenced_table}(${actual.referenced_columns.join(", ")}) ON DELETE ${action ?? actual.on_delete}`,
        });
      }
    }
  }

  return differences;
}

function compareColumnType(
  field: TDatamodelField,
  actual: DbColumn,
  enumTypeNames: Map<string, string>,
): { expected: string; actual: string } | undefined {
  const listSuffix = field.isList ? "[]" : "";
  const isArray = actual.element_type_name !== null;
  if (field.kind === "enum") {
    const expected = `${enumTypeNames.get(field.type) ?? field.type}${listSuffix}`;
    const actualName = isArray ? `${actual.element_type_name}[]` : actual.type_name;
    return actualName === expected ? undefined : { expected, actual: actualName };
  }
  const elementType = isArray ? actual.formatted_type.replace(/\[\]$/, "") : actual.formatted_type;
  if (field.isList !== isArray) {
    const expectedBase = field.nativeType
      ? nativeTypeName(field.nativeType)
      : describeMatchers(scalarMatchers(field));
    return { expected: `${expectedBase}${listSuffix}`, actual: actual.formatted_type };
  }
  if (field.nativeType) {
    const expected = nativeTypeName(field.nativeType);
    return elementType === expected
      ? undefined
      : { expected: `${expected}${listSuffix}`, actual: actual.formatted_type };
  }
  const matchers = scalarMatchers(field);
  const ok = matchers.some((matcher) =>
    typeof matcher === "string" ? matcher === elementType : matcher.test(elementType),
  );
  return ok
    ? undefined
    : { expected: `${describeMatchers(matchers)}${listSuffix}`, actual: actual.formatted_type };
}

function scalarMatchers(field: TDatamodelField): TypeMatcher[] {
  const matchers = SCALAR_TYPES[field.type];
  if (!matchers) throw new Error(`schema drift: no type rule for Prisma scalar ${field.type}`);
  return matchers;
}

function nativeTypeName([name, args]: [string, string[]]): string {
  const render = NATIVE_TYPES[name];
  if (!render) throw new Error(`schema drift: no type rule for native type @db.${name}`);
  return render(args);
}
