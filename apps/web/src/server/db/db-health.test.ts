import { describe, expect, it } from "vitest";
import { isConnectionError } from "./db-health";

// Shapes seen from Prisma 7 with @prisma/adapter-pg, pg and node's sockets.
const unreachable = {
  name: "PrismaClientKnownRequestError",
  code: "P1001",
  message: "Can't reach database server at 127.0.0.1:1",
  meta: { driverAdapterError: { name: "DriverAdapterError", cause: { kind: "DatabaseNotReachable" } } },
};

describe("isConnectionError", () => {
  it.each([
    ["Prisma P1001 (unreachable)", unreachable],
    [
      "Prisma P1017 (server closed the connection)",
      { code: "P1017", message: "Server has closed the connection." },
    ],
    ["pg: the socket ended", new Error("Connection terminated unexpectedly")],
    [
      "node: refused",
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
    ],
    [
      "an adapter error with a postgres admin shutdown (57P01)",
      { meta: { driverAdapterError: { cause: { kind: "postgres", code: "57P01", originalCode: "57P01" } } } },
    ],
    ["a server starting up (57P03)", { code: "57P03", message: "the database system is starting up" }],
    ["the adapter's ConnectionClosed", { cause: { kind: "ConnectionClosed" } }],
    ["wrapped as a cause", new Error("handling failed", { cause: new Error("Connection terminated") })],
    [
      "inside an AggregateError",
      new AggregateError([Object.assign(new Error("x"), { code: "ECONNREFUSED" })]),
    ],
  ])("knows %s", (_name, error) => {
    expect(isConnectionError(error)).toBe(true);
  });

  it.each([
    [
      "a unique violation",
      { name: "PrismaClientKnownRequestError", code: "P2002", message: "Unique constraint" },
    ],
    [
      "NUL in text (22021)",
      { meta: { driverAdapterError: { cause: { kind: "postgres", originalCode: "22021" } } } },
    ],
    ["a plain bug", new TypeError("x is undefined")],
    ["nothing", null],
    ["a string", "Connection"],
  ])("tells %s apart", (_name, error) => {
    expect(isConnectionError(error)).toBe(false);
  });

  it("survives a cause cycle", () => {
    const a = new Error("a") as Error & { cause?: unknown };
    const b = new Error("b", { cause: a });
    a.cause = b;
    expect(isConnectionError(a)).toBe(false);
  });
});
