import { describe, expect, test } from "vitest";
import { uuidV7 } from "./uuid-v7";

describe("uuidV7", () => {
  test("version 7, RFC variant, the milliseconds in its head, so ids sort by time", () => {
    const id = uuidV7(0x0123456789ab);
    expect(id).toMatch(/^01234567-89ab-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidV7(1_000) < uuidV7(2_000)).toBe(true);
    expect(uuidV7(5)).not.toBe(uuidV7(5));
  });
});
