import { expect, test } from "vitest";
import { joinCommand } from "./join-command";

test("names the server and the token, then each label in key order", () => {
  expect(
    joinCommand({
      serverUrl: "https://fleet.example.com",
      token: "fleet_join_abc-DEF_1",
      labels: { zone: "a", "example.com/disk": "ssd", gpu: "" },
    }),
  ).toBe(
    "fleet-agent --server https://fleet.example.com --join-token fleet_join_abc-DEF_1 --label example.com/disk=ssd --label gpu= --label zone=a",
  );
});

test("quotes anything a shell would read differently", () => {
  expect(joinCommand({ serverUrl: "http://h:1/base path", token: "t'x", labels: {} })).toBe(
    `fleet-agent --server 'http://h:1/base path' --join-token 't'\\''x'`,
  );
});
