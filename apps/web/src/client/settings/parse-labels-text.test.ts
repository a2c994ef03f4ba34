import { describe, expect, it } from "vitest";
import { parseLabelsText } from "./parse-labels-text";

describe("parseLabelsText", () => {
  it("reads commas, spaces and new lines as separators", () => {
    expect(parseLabelsText("zone=a, disk=ssd\ngpu")).toEqual({ zone: "a", disk: "ssd", gpu: "" });
  });

  it("is empty for blank text", () => {
    expect(parseLabelsText("  \n ")).toEqual({});
  });

  it("refuses an invalid key with the reason", () => {
    expect(() => parseLabelsText("-bad=1")).toThrow(/invalid label "-bad=1"/);
  });
});
