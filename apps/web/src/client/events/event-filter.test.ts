import { describe, expect, it } from "vitest";
import { filterFromSearchParams, filterToInput, filterToSearchParams, hasAnyFilter } from "./event-filter";

describe("event filter in the query string", () => {
  it("reads host, container, kind and severities", () => {
    const filter = filterFromSearchParams(
      new URLSearchParams("host=h1&container=c1&kind=container.&severity=warning,error"),
    );
    expect(filter).toEqual({
      kindPrefix: "container.",
      severity: ["warning", "error"],
      hostId: "h1",
      containerId: "c1",
    });
    expect(filterFromSearchParams(filterToSearchParams(filter))).toEqual(filter);
  });

  it("reads and writes a deployment", () => {
    const filter = filterFromSearchParams(new URLSearchParams("deployment=d1"));
    expect(filter.deploymentId).toBe("d1");
    expect(filterToSearchParams(filter).toString()).toBe("deployment=d1");
    expect(filterToInput(filter)).toEqual({ deploymentId: "d1" });
    expect(hasAnyFilter(filter)).toBe(true);
  });

  it("drops unknown severities and blank values", () => {
    const filter = filterFromSearchParams(new URLSearchParams("severity=loud,error,error&kind=%20&host="));
    expect(filter).toEqual({
      severity: ["error"],
      kindPrefix: undefined,
      hostId: undefined,
      containerId: undefined,
    });
  });

  it("sends only what is set to the API", () => {
    expect(filterToInput({})).toEqual({});
    expect(hasAnyFilter({})).toBe(false);
    expect(filterToInput({ hostId: "h1", severity: [] })).toEqual({ hostId: "h1" });
  });
});
