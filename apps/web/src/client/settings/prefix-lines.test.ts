import { describe, expect, test } from "vitest";
import { prefixLines } from "./prefix-lines";

describe("prefixLines", () => {
  test("one prefix per line, trimmed, blanks dropped, order kept", () => {
    expect(prefixLines(" /srv/data \r\n\n/mnt/shared/\n  ")).toEqual(["/srv/data", "/mnt/shared/"]);
    expect(prefixLines("")).toEqual([]);
  });
});
