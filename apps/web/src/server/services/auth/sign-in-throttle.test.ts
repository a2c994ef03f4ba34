import { expect, test } from "vitest";
import { createSignInThrottle, type TSignInAttempt, waitAfterFailures } from "./sign-in-throttle";

function clockAt(start: number) {
  let now = start;
  return {
    clock: { now: () => now },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const rule = { freeFailures: 3, baseDelayMs: 1000, maxDelayMs: 8000 };

function fail(attempt: TSignInAttempt): void {
  expect(attempt.ok).toBe(true);
}

test("waits grow by doubling past the free failures, up to the cap", () => {
  expect([0, 1, 2, 3, 4, 5, 6, 7, 50].map((failures) => waitAfterFailures(rule, failures))).toEqual([
    0, 0, 0, 1000, 2000, 4000, 8000, 8000, 8000,
  ]);
});

test("an attempt is counted when it begins, so parallel attempts cannot race past the count", () => {
  const { clock } = clockAt(0);
  const throttle = createSignInThrottle({ clock, accountAndAddress: rule });
  // Nothing has failed yet; the attempts are all still in flight.
  const attempts = Array.from({ length: 5 }, () =>
    throttle.begin({ email: "a@x.test", address: "10.0.0.1" }),
  );
  expect(attempts.map((attempt) => attempt.ok)).toEqual([true, true, true, false, false]);
  expect(attempts[3]).toMatchObject({ ok: false, scope: "account-and-address", retryAfterMs: 1000 });
});

test("a stranger's failures do not hold up the owner at another address", () => {
  const { clock } = clockAt(0);
  const throttle = createSignInThrottle({ clock, accountAndAddress: rule });
  for (let i = 0; i < 30; i++) throttle.begin({ email: "owner@x.test", address: "203.0.113.9" });
  expect(throttle.begin({ email: "Owner@X.test ", address: "203.0.113.9" }).ok).toBe(false);
  const owner = throttle.begin({ email: "owner@x.test", address: "198.51.100.7" });
  expect(owner.ok).toBe(true);
});

test("one address spraying many accounts is slowed by its own key", () => {
  const { clock } = clockAt(0);
  const throttle = createSignInThrottle({ clock, address: { ...rule, freeFailures: 5 } });
  for (let i = 0; i < 5; i++) fail(throttle.begin({ email: `user${i}@x.test`, address: "10.0.0.2" }));
  expect(throttle.begin({ email: "user99@x.test", address: "10.0.0.2" })).toMatchObject({
    ok: false,
    scope: "address",
  });
  expect(throttle.begin({ email: "user99@x.test", address: "10.0.0.3" }).ok).toBe(true);
});

test("after the wait one more attempt is let through, and the next wait is longer", () => {
  const { clock, advance } = clockAt(0);
  const throttle = createSignInThrottle({ clock, accountAndAddress: rule });
  const key = { email: "a@x.test", address: "10.0.0.1" };
  for (let i = 0; i < 3; i++) fail(throttle.begin(key));
  expect(throttle.begin(key)).toMatchObject({ ok: false, retryAfterMs: 1000, firstRefusal: true });
  expect(throttle.begin(key)).toMatchObject({ ok: false, firstRefusal: false });
  advance(1000);
  fail(throttle.begin(key));
  expect(throttle.begin(key)).toMatchObject({ ok: false, retryAfterMs: 2000, firstRefusal: true });
});

test("a success clears the account's key and takes its attempt back from the address", () => {
  const { clock } = clockAt(0);
  const throttle = createSignInThrottle({
    clock,
    accountAndAddress: rule,
    address: { ...rule, freeFailures: 3 },
  });
  const key = { email: "a@x.test", address: "10.0.0.1" };
  fail(throttle.begin(key));
  const last = throttle.begin(key);
  if (!last.ok) throw new Error("expected the attempt to be let through");
  last.succeeded();
  // Two failures were cleared for the account; the address still remembers one.
  fail(throttle.begin(key));
  fail(throttle.begin(key));
  expect(throttle.begin(key)).toMatchObject({ ok: false, scope: "address" });
});

test("an abandoned attempt (the check never ran) does not count", () => {
  const { clock } = clockAt(0);
  const throttle = createSignInThrottle({ clock, accountAndAddress: rule });
  const key = { email: "a@x.test", address: "10.0.0.1" };
  for (let i = 0; i < 10; i++) {
    const attempt = throttle.begin(key);
    if (!attempt.ok) throw new Error(`attempt ${i} was refused`);
    attempt.abandoned();
  }
});

test("keys are forgotten once their wait and the quiet period have passed", () => {
  const { clock, advance } = clockAt(0);
  const throttle = createSignInThrottle({ clock, accountAndAddress: rule, forgetAfterMs: 60_000 });
  const key = { email: "a@x.test", address: "10.0.0.1" };
  for (let i = 0; i < 3; i++) fail(throttle.begin(key));
  advance(1000 + 60_000);
  for (let i = 0; i < 3; i++) fail(throttle.begin(key));
});

test("remembers a bounded number of keys, forgetting the stalest", () => {
  const { clock } = clockAt(0);
  const throttle = createSignInThrottle({
    clock,
    accountAndAddress: { ...rule, freeFailures: 1 },
    address: { ...rule, freeFailures: 100 },
    maxTracked: 3,
  });
  for (const email of ["1@x.test", "2@x.test", "3@x.test"]) {
    fail(throttle.begin({ email, address: "10.0.0.1" }));
  }
  // Three pair keys and one address key were written: the first pair is gone.
  expect(throttle.begin({ email: "1@x.test", address: "10.0.0.1" }).ok).toBe(true);
  expect(throttle.begin({ email: "3@x.test", address: "10.0.0.1" }).ok).toBe(false);
});
