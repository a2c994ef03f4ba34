import { describe, expect, it } from "vitest";
import { isAppError } from "../../errors";
import { assertBindMountsAllowed, isBindPathAllowed, ZBindMountPrefixes } from "./bind-mount-prefixes";

describe("isBindPathAllowed", () => {
  it.each([
    ["/srv/data", ["/srv/data"], true],
    ["/srv/data/x/y", ["/srv/data"], true],
    ["/srv/database", ["/srv/data"], false],
    ["/srv", ["/srv/data"], false],
    ["/etc", [], false],
    ["/opt/app", ["/srv/data", "/opt"], true],
  ] as const)("%s under %j: %s", (path, prefixes, allowed) => {
    expect(isBindPathAllowed(path, prefixes)).toBe(allowed);
  });
});

describe("ZBindMountPrefixes", () => {
  it("drops trailing slashes, doubled slashes and repeats", () => {
    expect(ZBindMountPrefixes.parse(["/srv/data/", "/srv//data", " /opt "])).toEqual(["/srv/data", "/opt"]);
  });

  it.each([
    ["/", "must not be / itself"],
    ["//", "must not be / itself"],
    ["srv/data", "must be an absolute path"],
    ["/srv/../etc", "must not contain '..'"],
  ])("refuses %j (%s)", (prefix, message) => {
    const parsed = ZBindMountPrefixes.safeParse([prefix]);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toContain(message);
  });

  it("takes at most 64", () => {
    const many = Array.from({ length: 65 }, (_, i) => `/srv/${i}`);
    expect(ZBindMountPrefixes.safeParse(many).success).toBe(false);
    expect(ZBindMountPrefixes.safeParse(many.slice(0, 64)).success).toBe(true);
  });
});

describe("assertBindMountsAllowed", () => {
  const bind = (source: string) => ({ type: "bind" as const, source, target: "/mnt", readOnly: false });

  function refusal(run: () => void): string {
    try {
      run();
    } catch (error) {
      if (isAppError(error) && error.code === "FORBIDDEN") return error.message;
      throw error;
    }
    throw new Error("expected FORBIDDEN");
  }

  it("names the path and the allowed prefixes", () => {
    expect(refusal(() => assertBindMountsAllowed([bind("/etc")], ["/srv/data", "/opt"]))).toBe(
      "bind mount of /etc is not allowed: allowed host path prefixes are /srv/data, /opt (an administrator sets them in Settings)",
    );
    expect(refusal(() => assertBindMountsAllowed([bind("/etc")], []))).toBe(
      "bind mount of /etc is not allowed: no host paths are allowed (an administrator sets them in Settings)",
    );
  });

  it("lets volumes, tmpfs and allowed binds through", () => {
    expect(() =>
      assertBindMountsAllowed(
        [
          { type: "volume", source: "data", target: "/data", readOnly: false },
          { type: "tmpfs", target: "/tmp", sizeBytes: 4096 },
          bind("/srv/data/app"),
        ],
        ["/srv/data"],
      ),
    ).not.toThrow();
  });
});
