import { describe, expect, it } from "vitest";
import {
  formatLabelSelector,
  isValidLabelKey,
  isValidLabelValue,
  LabelSelectorError,
  matchesLabels,
  parseLabel,
  parseLabelSelector,
  type TLabelRequirement,
  ZLabelSelector,
  ZLabels,
} from "./label-selector";

describe("parseLabelSelector", () => {
  it("parses every operator", () => {
    expect(parseLabelSelector("env=prod,tier!=db,zone in (a,b),region notin (x),gpu,!spot")).toEqual([
      { key: "env", op: "=", values: ["prod"] },
      { key: "tier", op: "!=", values: ["db"] },
      { key: "zone", op: "in", values: ["a", "b"] },
      { key: "region", op: "notin", values: ["x"] },
      { key: "gpu", op: "exists", values: [] },
      { key: "spot", op: "!exists", values: [] },
    ]);
  });

  it.each<[string, TLabelRequirement[]]>([
    ["", []],
    ["   ", []],
    ["env==prod", [{ key: "env", op: "=", values: ["prod"] }]],
    [
      " env = prod , ! spot ",
      [
        { key: "env", op: "=", values: ["prod"] },
        { key: "spot", op: "!exists", values: [] },
      ],
    ],
    ["env=", [{ key: "env", op: "=", values: [""] }]],
    [
      "env!=,gpu",
      [
        { key: "env", op: "!=", values: [""] },
        { key: "gpu", op: "exists", values: [] },
      ],
    ],
    ["zone in(b, a ,b)", [{ key: "zone", op: "in", values: ["a", "b"] }]],
    ["zone in (a,)", [{ key: "zone", op: "in", values: ["", "a"] }]],
    ["fleet.dev/zone=eu-1", [{ key: "fleet.dev/zone", op: "=", values: ["eu-1"] }]],
    ["Node.Type_x=V1.2_b", [{ key: "Node.Type_x", op: "=", values: ["V1.2_b"] }]],
  ])("%j", (input, expected) => {
    expect(parseLabelSelector(input)).toEqual(expected);
  });

  it.each([
    ["env=prod,", /requirement after ","/],
    [",env", /expected a label key/],
    ["env prod", /expected "=", "!=", "in", "notin"/],
    ["zone in a", /expected "\(" after "in"/],
    ["zone in ()", /needs at least one value/],
    ["zone in (a b)", /expected "," or "\)"/],
    ["zone in (a", /expected "," or "\)", found end of input/],
    ["env=a=b", /expected ","/],
    ["-env=prod", /label key "-env"/],
    ["env_=prod", /label key "env_"/],
    [`${"k".repeat(64)}=v`, /longer than 63/],
    ["Upper.Case/k=v", /prefix "Upper.Case"/],
    ["a/b/c=v", /label key "a\/b\/c"/],
    [`env=${"v".repeat(64)}`, /longer than 63/],
    ["env=-prod", /label value "-prod"/],
    ["env=a@b", /label value "a@b"/],
    ["!", /expected a label key, found end of input/],
    ["!env=prod", /expected ","/],
    ["(env)", /expected a label key, found "\("/],
  ])("rejects %j", (input, reason) => {
    expect(() => parseLabelSelector(input)).toThrow(LabelSelectorError);
    expect(() => parseLabelSelector(input)).toThrow(reason);
  });

  it("says where the problem is", () => {
    expect(() => parseLabelSelector("env=prod,zone in a")).toThrow(
      'invalid label selector "env=prod,zone in a": expected "(" after "in", found "a" at position 18',
    );
  });

  it("rejects selectors longer than 4096 characters", () => {
    expect(() => parseLabelSelector(`a=${"b,a=b".repeat(1000)}`)).toThrow(/longer than 4096/);
  });
});

describe("matchesLabels", () => {
  const labels = { env: "prod", tier: "web", zone: "a", gpu: "" };

  it.each([
    ["", true],
    ["env=prod", true],
    ["env=dev", false],
    ["env!=dev", true],
    ["env!=prod", false],
    ["missing!=x", true],
    ["missing=x", false],
    ["zone in (a,b)", true],
    ["zone in (b,c)", false],
    ["missing in (a)", false],
    ["zone notin (b)", true],
    ["zone notin (a)", false],
    ["missing notin (a)", true],
    ["gpu", true],
    ["missing", false],
    ["!missing", true],
    ["!gpu", false],
    ["gpu=", true],
    ["env=prod,tier!=db,zone in (a,b),region notin (x),gpu,!spot", true],
    ["env=prod,tier=db", false],
  ])("%j → %s", (selector, expected) => {
    expect(matchesLabels(parseLabelSelector(selector), labels)).toBe(expected);
  });

  it("does not match inherited object keys", () => {
    expect(matchesLabels(parseLabelSelector("constructor"), {})).toBe(false);
    expect(matchesLabels(parseLabelSelector("toString"), {})).toBe(false);
  });
});

describe("formatLabelSelector", () => {
  it.each([
    "env=prod,tier!=db,zone in (a,b),region notin (x),gpu,!spot",
    "env=",
    "fleet.dev/zone in (,a)",
    "",
  ])("round-trips %j", (selector) => {
    const parsed = parseLabelSelector(selector);
    const printed = formatLabelSelector(parsed);
    expect(parseLabelSelector(printed)).toEqual(parsed);
  });

  it("prints a canonical form", () => {
    expect(formatLabelSelector(parseLabelSelector(" env == prod ,zone in(b,a), ! spot"))).toBe(
      "env=prod,zone in (a,b),!spot",
    );
  });
});

describe("parseLabel", () => {
  it.each([
    ["k=v", ["k", "v"]],
    ["k=", ["k", ""]],
    ["k", ["k", ""]],
    ["fleet.dev/zone=eu-1", ["fleet.dev/zone", "eu-1"]],
  ])("%j", (input, expected) => {
    expect(parseLabel(input)).toEqual(expected);
  });

  it.each(["=v", "k=v=w", "k=a b", "-k=v", ""])("rejects %j", (input) => {
    expect(() => parseLabel(input)).toThrow(LabelSelectorError);
  });
});

describe("key and value checks", () => {
  it.each([
    ["a", true],
    ["a.b-c_d", true],
    ["example.com/name", true],
    [`${"p".repeat(253)}/n`, true],
    [`${"p".repeat(254)}/n`, false],
    ["/name", false],
    ["example.com/", false],
    ["a..b", true],
    [".a", false],
  ])("key %j valid: %s", (key, valid) => {
    expect(isValidLabelKey(key)).toBe(valid);
  });

  it.each([
    ["", true],
    ["v1", true],
    ["a/b", false],
    ["v".repeat(63), true],
    ["v".repeat(64), false],
  ])("value %j valid: %s", (value, valid) => {
    expect(isValidLabelValue(value)).toBe(valid);
  });
});

describe("ZLabels", () => {
  it("accepts valid labels", () => {
    expect(ZLabels.parse({ env: "prod", "fleet.dev/zone": "" })).toEqual({
      env: "prod",
      "fleet.dev/zone": "",
    });
  });

  it("points at the bad key", () => {
    const result = ZLabels.safeParse({ env: "prod", "bad key": "x" });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["bad key"]);
  });

  it("rejects bad values and non-string values", () => {
    expect(ZLabels.safeParse({ env: "a b" }).success).toBe(false);
    expect(ZLabels.safeParse({ env: 1 }).success).toBe(false);
  });

  it("allows 64 labels and rejects 65", () => {
    const make = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"]));
    expect(ZLabels.safeParse(make(64)).success).toBe(true);
    expect(ZLabels.safeParse(make(65)).error?.issues[0]?.message).toMatch(/at most 64 labels/);
  });
});

describe("ZLabelSelector", () => {
  it("keeps a valid selector as written and rejects a bad one", () => {
    expect(ZLabelSelector.parse("env = prod")).toBe("env = prod");
    expect(ZLabelSelector.safeParse("env in").success).toBe(false);
  });
});
