import { describe, expect, it } from "vitest";
import { RecordTable } from "./record-table";
import { makeHost } from "./test-factories";

const names = (records: { length: number; get(i: number): { name: string } }) =>
  Array.from({ length: records.length }, (_, i) => records.get(i).name);

function tableOf(count: number): RecordTable {
  const table = new RecordTable();
  for (let i = 0; i < count; i++) table.push(makeHost({ name: `h${i}` }));
  return table;
}

describe("RecordTable", () => {
  // 150 records: three chunks, the last one partly filled.
  it.each([0, 63, 64, 65, 149])("a snapshot keeps record %i as it was after set", (index) => {
    const table = tableOf(150);
    const snapshot = table.snapshot();
    table.set(index, makeHost({ name: "changed" }));
    expect(snapshot.get(index).name).toBe(`h${index}`);
    expect(table.get(index).name).toBe("changed");
    expect(table.snapshot().get(index).name).toBe("changed");
    // The other records of the copied chunk are still there.
    if (index > 0) expect(table.get(index - 1).name).toBe(`h${index - 1}`);
    if (index < 149) expect(table.get(index + 1).name).toBe(`h${index + 1}`);
  });

  it("a snapshot keeps its length and records through push and splice", () => {
    const table = tableOf(128);
    const snapshot = table.snapshot();
    table.push(makeHost({ name: "pushed" }));
    table.splice(0, undefined);
    table.splice(5, makeHost({ name: "inserted" }));
    expect(snapshot.length).toBe(128);
    expect(names(snapshot)).toEqual(Array.from({ length: 128 }, (_, i) => `h${i}`));
    expect(table.length).toBe(129);
    expect(names(table).slice(0, 7)).toEqual(["h1", "h2", "h3", "h4", "h5", "inserted", "h6"]);
    expect(table.get(128).name).toBe("pushed");
  });

  it("push after a snapshot into a shared chunk copies it", () => {
    const table = tableOf(10);
    const snapshot = table.snapshot();
    table.push(makeHost({ name: "h10" }));
    table.set(0, makeHost({ name: "changed" }));
    expect(names(snapshot)).toEqual(Array.from({ length: 10 }, (_, i) => `h${i}`));
    expect(table.length).toBe(11);
  });

  it("hands out the same snapshot and flat array until something changes", () => {
    const table = tableOf(70);
    const snapshot = table.snapshot();
    const flat = table.flat();
    expect(table.snapshot()).toBe(snapshot);
    expect(table.flat()).toBe(flat);
    expect(flat.map((h) => h.name)).toEqual(names(table));
    table.set(69, makeHost({ name: "changed" }));
    expect(table.snapshot()).not.toBe(snapshot);
    expect(table.flat()).not.toBe(flat);
    expect(flat[69]?.name).toBe("h69");
    expect(table.flat()[69]?.name).toBe("changed");
  });

  it("changes a chunk in place when no snapshot holds it", () => {
    const table = tableOf(3);
    table.set(1, makeHost({ name: "a" }));
    const snapshot = table.snapshot();
    table.set(1, makeHost({ name: "b" }));
    table.set(2, makeHost({ name: "c" }));
    expect(names(snapshot)).toEqual(["h0", "a", "h2"]);
    expect(names(table)).toEqual(["h0", "b", "c"]);
  });
});
