// Reads prisma/schema.prisma with Prisma's own parser: the prisma-schema wasm
// module that ships inside the `prisma` CLI package. No engine binary and no
// network are needed. The CLI bundles the wasm-bindgen glue instead of
// exporting it, so the few lines of glue that `get_datamodel` needs are here.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { z } from "zod";

const ZNativeType = z.tuple([z.string(), z.array(z.string())]);

const ZDatamodelField = z.object({
  name: z.string(),
  dbName: z.string().nullish(),
  kind: z.enum(["scalar", "enum", "object", "unsupported"]),
  type: z.string(),
  isList: z.boolean(),
  isRequired: z.boolean(),
  nativeType: ZNativeType.nullish(),
  relationName: z.string().nullish(),
  relationFromFields: z.array(z.string()).nullish(),
  relationToFields: z.array(z.string()).nullish(),
  relationOnDelete: z.string().nullish(),
});

const ZDatamodelModel = z.object({
  name: z.string(),
  dbName: z.string().nullish(),
  fields: z.array(ZDatamodelField),
});

const ZDatamodelEnum = z.object({
  name: z.string(),
  dbName: z.string().nullish(),
  values: z.array(z.object({ name: z.string(), dbName: z.string().nullish() })),
});

const ZDatamodelIndex = z.object({
  model: z.string(),
  type: z.enum(["id", "unique", "normal", "fulltext"]),
  dbName: z.string().nullish(),
  fields: z.array(z.object({ name: z.string() })),
});

export const ZPrismaDatamodel = z.object({
  models: z.array(ZDatamodelModel),
  enums: z.array(ZDatamodelEnum),
  indexes: z.array(ZDatamodelIndex),
});

export type TDatamodelField = z.infer<typeof ZDatamodelField>;
export type TDatamodelModel = z.infer<typeof ZDatamodelModel>;
export type TDatamodelEnum = z.infer<typeof ZDatamodelEnum>;
export type TDatamodelIndex = z.infer<typeof ZDatamodelIndex>;
export type TPrismaDatamodel = z.infer<typeof ZPrismaDatamodel>;

// Node provides WebAssembly, but the project's libs (ES2023, no DOM) do not
// type it: these are the few parts used here.
interface WasmTable {
  get(index: number): unknown;
  set(index: number, value: unknown): void;
  grow(delta: number): number;
}
interface WebAssemblyApi {
  Module: {
    new (bytes: Uint8Array): object;
    imports(module: object): Array<{ module: string; name: string; kind: string }>;
  };
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

interface SchemaWasmExports {
  memory: { buffer: ArrayBuffer };
  __wbindgen_externrefs: WasmTable;
  __wbindgen_start(): void;
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_free(pointer: number, size: number, align: number): void;
  __externref_table_dealloc(index: number): void;
  get_datamodel(pointer: number, length: number): [number, number, number, number];
}

let wasm: SchemaWasmExports | undefined;

function loadSchemaWasm(): SchemaWasmExports {
  if (wasm) return wasm;
  const require = createRequire(import.meta.url);
  const prismaDir = dirname(require.resolve("prisma/package.json"));
  const module = new wasmApi.Module(readFileSync(join(prismaDir, "build", "prisma_schema_build_bg.wasm")));
  const decoder = new TextDecoder();
  const text = (pointer: number, length: number) =>
    decoder.decode(new Uint8Array(exports().memory.buffer, pointer >>> 0, length >>> 0));
  const exports = () => {
    if (!wasm) throw new Error("prisma schema wasm used before it was instantiated");
    return wasm;
  };

  // wasm-bindgen suffixes import names with a hash that changes between
  // builds, so they are matched by prefix.
  const bindings: Record<string, Record<string, (...args: number[]) => unknown>> = {};
  for (const entry of wasmApi.Module.imports(module)) {
    const namespace = bindings[entry.module] ?? {};
    bindings[entry.module] = namespace;
    if (entry.name.startsWith("__wbg_set_message_")) {
      namespace[entry.name] = () => {}; // panic message; the error that follows carries it
    } else if (entry.name.startsWith("__wbg_Error_")) {
      namespace[entry.name] = (pointer, length) => new Error(text(pointer, length));
    } else if (entry.name.startsWith("__wbg___wbindgen_throw_")) {
      namespace[entry.name] = (pointer, length) => {
        throw new Error(text(pointer, length));
      };
    } else if (entry.name === "__wbindgen_init_externref_table") {
      namespace[entry.name] = () => {
        const table = exports().__wbindgen_externrefs;
        const base = table.grow(4);
        table.set(0, undefined);
        table.set(base, undefined);
        table.set(base + 1, null);
        table.set(base + 2, true);
        table.set(base + 3, false);
      };
    } else {
      throw new Error(`prisma schema wasm needs an import this loader does not know: ${entry.name}`);
    }
  }
  wasm = new wasmApi.Instance(module, bindings).exports as unknown as SchemaWasmExports;
  wasm.__wbindgen_start();
  return wasm;
}

// The parsed schema: models with their fields (database names, types,
// nullability, native types), enums and indexes, as Prisma's parser sees them.
export function parsePrismaDatamodel(schema: string): TPrismaDatamodel {
  const exports = loadSchemaWasm();
  const input = new TextEncoder().encode(JSON.stringify({ prismaSchema: schema, noColor: true }));
  const pointer = exports.__wbindgen_malloc(input.length, 1) >>> 0;
  new Uint8Array(exports.memory.buffer, pointer, input.length).set(input);
  const [resultPointer, resultLength, errorIndex, failed] = exports.get_datamodel(pointer, input.length);
  if (failed) {
    const error = exports.__wbindgen_externrefs.get(errorIndex);
    exports.__externref_table_dealloc(errorIndex);
    throw schemaError(error);
  }
  let json: string;
  try {
    json = new TextDecoder().decode(
      new Uint8Array(exports.memory.buffer, resultPointer >>> 0, resultLength >>> 0),
    );
  } finally {
    exports.__wbindgen_free(resultPointer, resultLength, 1);
  }
  return ZPrismaDatamodel.parse(JSON.parse(json));
}

// The parser reports errors as JSON ({ error_code, message }); surface the
// human-readable message.
function schemaError(error: unknown): Error {
  const raw = error instanceof Error ? error.message : String(error);
  try {
    const parsed: unknown = JSON.parse(raw);
    const message = (parsed as { message?: unknown }).message;
    if (typeof message === "string") return new Error(`invalid Prisma schema: ${message}`);
  } catch {
    // Not JSON: keep the text as it is.
  }
  return error instanceof Error ? error : new Error(raw);
}

export function readPrismaDatamodel(schemaPath: string): TPrismaDatamodel {
  return parsePrismaDatamodel(readFileSync(schemaPath, "utf8"));
}
