import { describe, expect, test } from "vitest";
import { displayWidth, renderTable, truncate } from "./table";

describe("renderTable", () => {
  test("columns padded to the widest cell, three spaces apart, the last unpadded", () => {
    expect(
      renderTable(
        ["CONTAINER ID", "NAMES", "STATUS"],
        [
          ["abc", "web-1", "Up 5 minutes"],
          ["0123456789ab", "w", "Exited (0)"],
        ],
      ),
    ).toEqual([
      "CONTAINER ID   NAMES   STATUS",
      "abc            web-1   Up 5 minutes",
      "0123456789ab   w       Exited (0)",
    ]);
  });

  test("empty cells and trailing space", () => {
    expect(renderTable(["A", "PORTS"], [["x", ""]])).toEqual(["A   PORTS", "x"]);
    expect(renderTable(["A", "B"], [])).toEqual(["A   B"]);
  });

  test("wide characters take two columns", () => {
    expect(displayWidth("名前")).toBe(4);
    expect(renderTable(["N", "X"], [["名前", "1"]])).toEqual(["N      X", "名前   1"]);
  });
});

describe("truncate", () => {
  test("cuts with an ellipsis only when too long", () => {
    expect(truncate("abcdef", 6)).toBe("abcdef");
    expect(truncate("abcdefg", 6)).toBe("abcde…");
  });
});
