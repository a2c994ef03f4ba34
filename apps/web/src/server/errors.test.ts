import { describe, expect, test } from "vitest";
import { z } from "zod";
import { AppError, describeIssues, isAppError } from "./errors";

function messageFor(schema: z.ZodType, input: unknown): string {
  const result = schema.safeParse(input);
  if (result.success) throw new Error("expected the input to be refused");
  return describeIssues(result.error.issues);
}

describe("describeIssues", () => {
  const ZSpec = z.object({
    image: z.string().min(1),
    name: z.string().min(3).max(5),
    cpus: z.number().min(1).max(64),
    role: z.enum(["admin", "viewer"]),
    email: z.email(),
    ports: z.array(z.int()).max(1),
    env: z.record(z.string(), z.string()),
  });
  const valid = {
    image: "busybox",
    name: "web",
    cpus: 1,
    role: "admin",
    email: "a@b.test",
    ports: [],
    env: {},
  };

  test("names the field and says what it must be", () => {
    expect(messageFor(ZSpec, { ...valid, image: "" })).toBe("image: must not be empty");
    expect(messageFor(ZSpec, { ...valid, name: "ab" })).toBe("name: must be at least 3 characters");
    expect(messageFor(ZSpec, { ...valid, name: "abcdef" })).toBe("name: must be at most 5 characters");
    expect(messageFor(ZSpec, { ...valid, cpus: 0 })).toBe("cpus: must be at least 1");
    expect(messageFor(ZSpec, { ...valid, cpus: 65 })).toBe("cpus: must be at most 64");
    expect(messageFor(ZSpec, { ...valid, role: "root" })).toBe('role: must be one of "admin", "viewer"');
    expect(messageFor(ZSpec, { ...valid, email: "nope" })).toBe("email: must be an email address");
    expect(messageFor(ZSpec, { ...valid, ports: [1, 2] })).toBe("ports: must have at most 1 items");
    expect(messageFor(ZSpec, { ...valid, ports: ["80"] })).toBe("ports[0]: must be a number");
    expect(messageFor(ZSpec, { ...valid, env: { PATH: 1 } })).toBe("env.PATH: must be a string");
  });

  test("a missing field is required; the whole input is 'input'", () => {
    const { image: _image, ...withoutImage } = valid;
    expect(messageFor(ZSpec, withoutImage)).toBe("image: is required");
    expect(messageFor(ZSpec, "text")).toBe("input: must be an object");
  });

  test("messages written by a schema's author are kept", () => {
    const ZPort = z.object({ port: z.int().refine((port) => port !== 22, "22 is reserved for ssh") });
    expect(messageFor(ZPort, { port: 22 })).toBe("port: 22 is reserved for ssh");
    expect(messageFor(z.object({ pw: z.string().min(10, "too short, use 10+") }), { pw: "x" })).toBe(
      "pw: too short, use 10+",
    );
  });

  test("joins several problems and cuts off after five", () => {
    const ZMany = z.object(Object.fromEntries("abcdefg".split("").map((key) => [key, z.string()])));
    expect(messageFor(ZMany, {})).toBe(
      "a: is required; b: is required; c: is required; d: is required; e: is required; and 2 more problems",
    );
  });
});

test("isAppError recognises AppErrors by brand, not by class identity", () => {
  const error = new AppError("NOT_FOUND", "no host with id x");
  expect(isAppError(error)).toBe(true);
  expect(isAppError(new Error("plain"))).toBe(false);
  expect(isAppError({ code: "NOT_FOUND", message: "lookalike" })).toBe(false);
  // An AppError from a second load of this module is another class with the same brand.
  const twin = Object.assign(new Error("from the other copy"), {
    [Symbol.for("fleet.app-error")]: true,
    code: "CONFLICT",
  });
  expect(isAppError(twin)).toBe(true);
});
