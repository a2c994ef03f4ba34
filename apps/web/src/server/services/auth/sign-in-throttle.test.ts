import { expect, test } from "vitest";
import { createSignInThrottle } from "./sign-in-throttle";

function clockAt(start: number) {
  let now = start;
  return {
    clock: { now: () => now, setTimeout: () => ({}), clearTimeout: () => {} },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

test("locks an email after too many failures within the window, then lets it try again", () => {
  const { clock, advance } = clockAt(0);
  const throttle = createSignInThrottle({ clock, maxFailures: 3, windowMs: 60_000 });
  for (let i = 0; i < 2; i++) throttle.recordFailure("A@example.test");
  expect(throttle.retryAfterMs("a@example.test")).toBe(0);
  throttle.recordFailure(" a@example.test ");
  expect(throttle.retryAfterMs("a@example.test")).toBe(60_000);
  expect(throttle.retryAfterMs("b@example.test")).toBe(0);
  advance(60_000);
  expect(throttle.retryAfterMs("a@example.test")).toBe(0);
});

test("a success clears the count", () => {
  const { clock } = clockAt(0);
  const throttle = createSignInThrottle({ clock, maxFailures: 2 });
  throttle.recordFailure("a@example.test");
  throttle.recordSuccess("a@example.test");
  throttle.recordFailure("a@example.test");
  expect(throttle.retryAfterMs("a@example.test")).toBe(0);
});

test("remembers a bounded number of emails, forgetting the oldest", () => {
  const { clock } = clockAt(0);
  const throttle = createSignInThrottle({ clock, maxFailures: 1, maxTracked: 2 });
  for (const email of ["1@x.test", "2@x.test", "3@x.test"]) throttle.recordFailure(email);
  expect(throttle.retryAfterMs("1@x.test")).toBe(0);
  expect(throttle.retryAfterMs("3@x.test")).toBeGreaterThan(0);
});
