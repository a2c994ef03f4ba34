import { describe, expect, test } from "vitest";
import { CliError } from "./cli-error";
import { collectPages, expectOne, matchByIdOrName, type TNamed } from "./resolve";

let sequence = 0;
function container(name: string, tail?: string): TNamed {
  sequence++;
  // Same creation millisecond (the UUIDv7 head) for all, as for replicas made together.
  return { id: `01a21f0d-8dca-74ab-a10b-${tail ?? String(sequence).padStart(12, "0")}`, name };
}

describe("matchByIdOrName", () => {
  const web = container("web", "9807a85b90e9");
  const web1 = container("web-1", "181a88380f59");
  const web2 = container("web-2", "c48cda651d34");
  const api = container("api", "0000cafe0001");
  const all = [web, web1, web2, api];

  test.each([
    ["the full id", web1.id, web1],
    ["an exact name, though others contain it", "web", web],
    ["the short id a table shows", "181a88380f59", web1],
    ["a unique part of the short id's tail", "8cda651d34", web2],
    ["a unique part of a name", "api", api],
    ["a fragment from the middle of an id matches nothing", "cafe", undefined],
  ])("%s", (_what, ref, expected) => {
    const match = matchByIdOrName(ref, all);
    if (expected) expect(match).toEqual({ kind: "found", item: expected });
    else expect(match.kind).toBe("none");
  });

  test("an exact name beats an id fragment that is also a name", () => {
    const beef = container("beef", "00000000beef");
    const other = container("other", "0000beefbeef");
    expect(matchByIdOrName("beef", [beef, other])).toEqual({ kind: "found", item: beef });
  });

  test("an id prefix (with or without dashes)", () => {
    const a = { id: "11111111-2222-7333-8444-555555555555", name: "a" };
    const b = { id: "11111111-2222-7333-8444-666666666666", name: "b" };
    expect(matchByIdOrName("11111111-2222-7333-8444-5", [a, b])).toEqual({ kind: "found", item: a });
    expect(matchByIdOrName("1111", [a, b])).toEqual({ kind: "ambiguous", candidates: [a, b] });
  });

  test("several partial names are ambiguous; nothing is none", () => {
    expect(matchByIdOrName("web-", all)).toEqual({ kind: "ambiguous", candidates: [web1, web2] });
    expect(matchByIdOrName("nope", all)).toEqual({ kind: "none" });
    // Fragments shorter than 4 hex digits never match ids.
    expect(matchByIdOrName("e9", all)).toEqual({ kind: "none" });
  });

  test("duplicates from several listings count once", () => {
    expect(matchByIdOrName("web-1", [web1, web1, web2])).toEqual({ kind: "found", item: web1 });
  });
});

describe("expectOne", () => {
  test("none is exit 4, ambiguous exit 1 naming the candidates", () => {
    const a = container("web-1");
    const b = container("web-2");
    const none = (() => {
      try {
        expectOne({ kind: "none" }, "x", "container");
      } catch (error) {
        return error as CliError;
      }
    })();
    expect(none).toBeInstanceOf(CliError);
    expect(none).toMatchObject({ exitCode: 4, message: "no container matches x" });
    try {
      expectOne({ kind: "ambiguous", candidates: [a, b] }, "web", "container");
      throw new Error("expected an error");
    } catch (error) {
      expect(error).toMatchObject({ exitCode: 1 });
      expect((error as Error).message).toBe(
        `web matches 2 containers, name one of them exactly:\n  ${a.id.slice(-12)} web-1\n  ${b.id.slice(-12)} web-2`,
      );
    }
  });
});

describe("collectPages", () => {
  const pages: Record<string, { items: number[]; nextCursor: string | null }> = {
    start: { items: [1, 2], nextCursor: "b" },
    b: { items: [3, 4], nextCursor: "c" },
    c: { items: [5], nextCursor: null },
  };
  const fetchPage = async (cursor: string | null) => pages[cursor ?? "start"]!;

  test("follows cursors to the last page, or stops at the cap", async () => {
    expect(await collectPages(fetchPage)).toEqual([1, 2, 3, 4, 5]);
    expect(await collectPages(fetchPage, 3)).toEqual([1, 2, 3]);
    expect(await collectPages(fetchPage, 2)).toEqual([1, 2]);
  });
});
