import { describe, expect, test } from "vitest";
import { isRetryableTransactionError, withTransactionRetry } from "./transaction-retry";

const deadlock = {
  name: "PrismaClientKnownRequestError",
  code: "P2010",
  meta: { driverAdapterError: { cause: { originalCode: "40P01", kind: "TransactionWriteConflict" } } },
};

describe("transaction retry", () => {
  test.each([
    ["a deadlock through the pg adapter", deadlock, true],
    ["Prisma's write-conflict code", { code: "P2034" }, true],
    [
      "a serialization failure",
      { code: "P2010", meta: { driverAdapterError: { cause: { originalCode: "40001" } } } },
      true,
    ],
    ["a unique violation", { code: "P2002" }, false],
    ["a plain error", new Error("boom"), false],
    ["nothing", null, false],
  ])("%s → retryable %s", (_what, error, expected) => {
    expect(isRetryableTransactionError(error)).toBe(expected);
  });

  test("runs again after a deadlock, and gives up after a few", async () => {
    let calls = 0;
    await expect(
      withTransactionRetry(async () => {
        calls++;
        if (calls < 3) throw deadlock;
        return "done";
      }),
    ).resolves.toBe("done");
    expect(calls).toBe(3);

    calls = 0;
    await expect(
      withTransactionRetry(async () => {
        calls++;
        throw deadlock;
      }),
    ).rejects.toBe(deadlock);
    expect(calls).toBe(4);
  });

  test("does not retry other errors", async () => {
    let calls = 0;
    const error = new Error("not found");
    await expect(
      withTransactionRetry(async () => {
        calls++;
        throw error;
      }),
    ).rejects.toBe(error);
    expect(calls).toBe(1);
  });
});
