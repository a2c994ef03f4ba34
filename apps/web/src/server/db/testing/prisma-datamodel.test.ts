import { describe, expect, it } from "vitest";
import { defaultSchemaPath } from "../project-paths";
import { parsePrismaDatamodel, readPrismaDatamodel } from "./prisma-datamodel";

const datasource = `datasource db {\n  provider = "postgresql"\n}\n`;

describe("parsePrismaDatamodel", () => {
  it("returns database names, nullability, lists, native types, enums and indexes", () => {
    const datamodel = parsePrismaDatamodel(`${datasource}
enum Colour {
  red
  green @map("GREEN")
  @@map("colour")
}
model Widget {
  id      BigInt    @id @default(autoincrement())
  name    String    @unique @map("widget_name") @db.VarChar(40)
  tags    String[]
  colour  Colour?
  madeAt  DateTime  @map("made_at") @db.Timestamptz(3)
  @@index([madeAt])
  @@map("widgets")
}
`);

    expect(datamodel.enums).toEqual([
      {
        name: "Colour",
        dbName: "colour",
        values: [
          { name: "red", dbName: null },
          { name: "green", dbName: "GREEN" },
        ],
      },
    ]);
    const widget = datamodel.models[0]!;
    expect(widget.dbName).toBe("widgets");
    expect(
      widget.fields.map(({ name, dbName, kind, type, isList, isRequired, nativeType }) => ({
        name,
        dbName: dbName ?? null,
        kind,
        type,
        isList,
        isRequired,
        nativeType: nativeType ?? null,
      })),
    ).toEqual([
      {
        name: "id",
        dbName: null,
        kind: "scalar",
        type: "BigInt",
        isList: false,
        isRequired: true,
        nativeType: null,
      },
      {
        name: "name",
        dbName: "widget_name",
        kind: "scalar",
        type: "String",
        isList: false,
        isRequired: true,
        nativeType: ["VarChar", ["40"]],
      },
      {
        name: "tags",
        dbName: null,
        kind: "scalar",
        type: "String",
        isList: true,
        isRequired: true,
        nativeType: null,
      },
      {
        name: "colour",
        dbName: null,
        kind: "enum",
        type: "Colour",
        isList: false,
        isRequired: false,
        nativeType: null,
      },
      {
        name: "madeAt",
        dbName: "made_at",
        kind: "scalar",
        type: "DateTime",
        isList: false,
        isRequired: true,
        nativeType: ["Timestamptz", ["3"]],
      },
    ]);
    expect(datamodel.indexes.map((index) => [index.type, index.fields.map((field) => field.name)])).toEqual([
      ["id", ["id"]],
      ["unique", ["name"]],
      ["normal", ["madeAt"]],
    ]);
  });

  it("rejects an invalid schema with Prisma's own validation message", () => {
    expect(() => parsePrismaDatamodel(`${datasource}model Broken {\n  id Strin @id\n}\n`)).toThrow(
      /Type "Strin" is neither a built-in type/,
    );
  });

  it("reads the project's schema", () => {
    const names = readPrismaDatamodel(defaultSchemaPath()).models.map((model) => model.name);
    expect(names).toEqual(expect.arrayContaining(["Host", "Container", "ContainerSample", "HostSampleHour"]));
  });
});
