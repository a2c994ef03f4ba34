import { describe, expect, it } from "vitest";
import { isAppError } from "../../errors";
import { assertBindMountsAllowed } from "./bind-mount-prefixes";

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
