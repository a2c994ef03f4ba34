import { describe, expect, it } from "vitest";
import { parseEventId } from "./event-view";

describe("parseEventId", () => {
  it("reads the decimal ids the API hands out as cursors", () => {
    expect(parseEventId("0")).toBe(0n);
    expect(parseEventId("123")).toBe(123n);
    expect(parseEventId("9223372036854775807")).toBe(9223372036854775807n);
  });

  it("refuses what is not an id Postgres's bigint can hold", () => {
    for (const text of [
      "",
      "-1",
      "1.5",
      "12a",
      "9223372036854775808",
      "99999999999999999999",
      null,
      undefined,
    ]) {
      expect(parseEventId(text)).toBeNull();
    }
  });
});
