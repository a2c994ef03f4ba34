import { describe, expect, test } from "vitest";
import { hostObjectFilterQuery, hostObjectListInput, parseHostObjectFilter } from "./host-object-filter";

describe("host object filters in the query string", () => {
  test("host and name round-trip", () => {
    const filter = parseHostObjectFilter(new URLSearchParams("host=h_1-a&name=data"));
    expect(filter).toEqual({ hostId: "h_1-a", name: "data" });
    expect(hostObjectFilterQuery(filter)).toBe("?host=h_1-a&name=data");
  });

  test("a host id that is not an id is ignored; the name is bounded", () => {
    const filter = parseHostObjectFilter(new URLSearchParams(`host=a/b&name=${"x".repeat(100)}`));
    expect(filter.hostId).toBeNull();
    expect(filter.name).toHaveLength(64);
  });

  test("no filter is no query and no list input", () => {
    const filter = parseHostObjectFilter(new URLSearchParams(""));
    expect(hostObjectFilterQuery(filter)).toBe("");
    expect(hostObjectListInput(filter)).toEqual({});
  });

  test("the list input trims the name and leaves out what is empty", () => {
    expect(hostObjectListInput({ hostId: null, name: "  db " })).toEqual({ name: "db" });
    expect(hostObjectListInput({ hostId: "h1", name: " " })).toEqual({ hostId: "h1" });
  });
});
