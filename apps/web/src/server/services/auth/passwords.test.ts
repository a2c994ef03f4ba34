import { scryptSync } from "node:crypto";
import { describe, expect, test } from "vitest";
import {
  CONCURRENT_HASHES,
  generatePassword,
  hashPassword,
  MAX_WAITING_HASHES,
  verifyPassword,
} from "./passwords";

describe("hashPassword", () => {
  test("encodes scrypt with N=2^15, r=8, p=1, a random salt and a 32-byte key", async () => {
    const encoded = await hashPassword("correct horse battery staple");
    const [scheme, cost, blockSize, parallelization, salt, key] = encoded.split("$");
    expect([scheme, cost, blockSize, parallelization]).toEqual(["scrypt", "32768", "8", "1"]);
    expect(Buffer.from(salt!, "base64url")).toHaveLength(16);
    expect(Buffer.from(key!, "base64url")).toHaveLength(32);
    // It is plain scrypt: an independent computation gives the same key.
    const expected = scryptSync("correct horse battery staple", Buffer.from(salt!, "base64url"), 32, {
      N: 32768,
      r: 8,
      p: 1,
      maxmem: 64 * 1024 * 1024,
    });
    expect(key).toBe(expected.toString("base64url"));
  });

  test("salts: the same password hashes differently each time", async () => {
    const [first, second] = await Promise.all([hashPassword("same"), hashPassword("same")]);
    expect(first).not.toBe(second);
  });
});

describe("verifyPassword", () => {
  test("accepts the password and refuses anything else", async () => {
    const encoded = await hashPassword("s3cret-enough");
    expect(await verifyPassword("s3cret-enough", encoded)).toBe(true);
    expect(await verifyPassword("s3cret-enougH", encoded)).toBe(false);
    expect(await verifyPassword("", encoded)).toBe(false);
  });

  test("reads the cost from the stored hash, so older parameters keep working", async () => {
    const salt = Buffer.from("0123456789abcdef");
    const key = scryptSync("old", salt, 32, { N: 1024, r: 8, p: 1 });
    const encoded = `scrypt$1024$8$1$${salt.toString("base64url")}$${key.toString("base64url")}`;
    expect(await verifyPassword("old", encoded)).toBe(true);
    expect(await verifyPassword("new", encoded)).toBe(false);
  });

  test("treats Unicode spellings of one password as the same (NFKC)", async () => {
    const encoded = await hashPassword("caf\u00e9-password");
    expect(await verifyPassword("cafe\u0301-password", encoded)).toBe(true);
  });

  test("refuses malformed or abusive hashes instead of throwing", async () => {
    const good = await hashPassword("x");
    const [, , r, p, salt, key] = good.split("$");
    for (const encoded of [
      "",
      "bcrypt$2b$10$abc",
      ["scrypt", "", ...good.split("$").slice(1)].join("$"), // an extra field
      `scrypt$1000$${r}$${p}$${salt}$${key}`, // not a power of two
      `scrypt$${2 ** 24}$${r}$${p}$${salt}$${key}`, // would need gigabytes
      `scrypt$32768$${r}$${p}$$${key}`, // no salt
    ]) {
      expect(await verifyPassword("x", encoded)).toBe(false);
    }
  });
});

test("generated passwords are 24 URL-safe characters and differ", () => {
  const passwords = new Set(Array.from({ length: 50 }, generatePassword));
  expect(passwords.size).toBe(50);
  for (const password of passwords) expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
});

test("at most a few hashes run at once and a bounded queue waits; past it callers are told to come back", async () => {
  const stored = await hashPassword("the-password");
  const asked = CONCURRENT_HASHES + MAX_WAITING_HASHES + 10;
  const answers = await Promise.allSettled(
    Array.from({ length: asked }, () => verifyPassword("the-password", stored)),
  );
  const refused = answers.filter((answer) => answer.status === "rejected");
  expect(answers.filter((answer) => answer.status === "fulfilled" && answer.value)).toHaveLength(
    CONCURRENT_HASHES + MAX_WAITING_HASHES,
  );
  expect(refused).toHaveLength(10);
  expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({
    code: "TOO_MANY_REQUESTS",
    message: "the server is busy checking passwords: try again in a few seconds",
  });
  // Once the queue drained, hashing works again.
  expect(await verifyPassword("the-password", stored)).toBe(true);
});
