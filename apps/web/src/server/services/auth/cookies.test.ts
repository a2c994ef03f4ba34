import { describe, expect, test } from "vitest";
import { parseCookieHeader, serializeCookie } from "./cookies";

describe("parseCookieHeader", () => {
  test("reads name=value pairs separated by semicolons, trimming spaces", () => {
    const cookies = parseCookieHeader("a=1; fleet_session=fleet_sess_abc ;theme=dark");
    expect([...cookies]).toEqual([
      ["a", "1"],
      ["fleet_session", "fleet_sess_abc"],
      ["theme", "dark"],
    ]);
  });

  test("keeps the first of a repeated name (the most specific path)", () => {
    expect(parseCookieHeader("s=first; s=second").get("s")).toBe("first");
  });

  test("decodes %-escapes and strips double quotes; keeps a malformed escape as is", () => {
    const cookies = parseCookieHeader('q="a%20b"; bad=%E0%A4%A; eq=a=b');
    expect(cookies.get("q")).toBe("a b");
    expect(cookies.get("bad")).toBe("%E0%A4%A");
    // Only the first `=` separates name from value.
    expect(cookies.get("eq")).toBe("a=b");
  });

  test("skips pairs without `=` and invalid names; tolerates nothing at all", () => {
    expect([...parseCookieHeader("novalue; bad name=1; ok=2")]).toEqual([["ok", "2"]]);
    expect(parseCookieHeader(undefined).size).toBe(0);
    expect(parseCookieHeader("").size).toBe(0);
  });

  test("accepts the header split over several lines", () => {
    expect([...parseCookieHeader(["a=1", "b=2"])]).toEqual([
      ["a", "1"],
      ["b", "2"],
    ]);
  });
});

describe("serializeCookie", () => {
  test("writes the session cookie attributes", () => {
    const cookie = serializeCookie("fleet_session", "tok", { maxAgeSeconds: 60, secure: true });
    expect(cookie).toMatch(
      /^fleet_session=tok; Max-Age=60; Expires=[^;]+ GMT; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
  });

  test("Max-Age=0 and an empty value delete a cookie", () => {
    expect(serializeCookie("s", "", { maxAgeSeconds: 0 })).toMatch(
      /^s=; Max-Age=0; Expires=.+; Path=\/; HttpOnly; SameSite=Lax$/,
    );
  });

  test("refuses names and values a cookie cannot carry", () => {
    expect(() => serializeCookie("bad name", "x")).toThrow(/invalid cookie name/);
    expect(() => serializeCookie("s", "a;b")).toThrow(/cannot carry/);
  });

  test("round-trips through parseCookieHeader", () => {
    const [pair] = serializeCookie("fleet_session", "fleet_sess_A-b_9").split(";");
    expect(parseCookieHeader(pair!).get("fleet_session")).toBe("fleet_sess_A-b_9");
  });
});
