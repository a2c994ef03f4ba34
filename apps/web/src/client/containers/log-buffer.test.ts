import { describe, expect, it } from "vitest";
import { appendCapped, logFileName, logsAsText, matchesQuery, splitMatches } from "./log-buffer";

describe("log buffer", () => {
  it("keeps only the newest lines past the cap", () => {
    expect(appendCapped([1, 2, 3], [4, 5], 4)).toEqual([2, 3, 4, 5]);
    expect(appendCapped([1, 2], [3], 4)).toEqual([1, 2, 3]);
    expect(appendCapped([1], [2, 3, 4, 5, 6], 3)).toEqual([4, 5, 6]);
  });

  it("splits a line around every match, ignoring case", () => {
    expect(splitMatches("Tick 1 tick", "tick")).toEqual([
      { text: "Tick", match: true },
      { text: " 1 ", match: false },
      { text: "tick", match: true },
    ]);
    expect(splitMatches("abc", "")).toEqual([{ text: "abc", match: false }]);
    expect(splitMatches("abc", "x")).toEqual([{ text: "abc", match: false }]);
    expect(splitMatches("", "x")).toEqual([{ text: "", match: false }]);
    expect(matchesQuery("Hello", "ELL")).toBe(true);
    expect(matchesQuery("Hello", "bye")).toBe(false);
  });

  it("downloads one line per line under a safe name", () => {
    expect(logsAsText([{ line: "a" }, { line: "b" }])).toBe("a\nb\n");
    expect(logsAsText([])).toBe("");
    expect(logFileName("web-1")).toBe("web-1.log.txt");
    expect(logFileName("../x y")).toBe("_x_y.log.txt");
  });
});
