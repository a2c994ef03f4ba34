import { expect, test } from "vitest";
import { joinCommand } from "./join-command";

const PIN = "sha256//AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/abcde=";

test("fetches the install script pinned to the central's key and passes token, pin and labels in key order", () => {
  expect(
    joinCommand({
      agentUrl: "https://fleet.example.com:3443",
      pin: PIN,
      token: "fleet_join_abc-DEF_1",
      labels: { zone: "a", "example.com/disk": "ssd", gpu: "" },
    }),
  ).toBe(
    `curl -fsSLk --pinnedpubkey '${PIN}' https://fleet.example.com:3443/install.sh | sudo sh -s -- --join-token fleet_join_abc-DEF_1 --server-pin '${PIN}' --label example.com/disk=ssd --label gpu= --label zone=a`,
  );
});

test("with a CA-signed certificate: plain curl, no pin", () => {
  expect(
    joinCommand({
      agentUrl: "https://fleet.example.com:3443/",
      pin: null,
      token: "fleet_join_x",
      labels: {},
    }),
  ).toBe("curl -fsSL https://fleet.example.com:3443/install.sh | sudo sh -s -- --join-token fleet_join_x");
});

test("quotes anything a shell would read differently", () => {
  expect(joinCommand({ agentUrl: "https://h:1", pin: null, token: "t'x", labels: { a: "b c" } })).toBe(
    `curl -fsSL https://h:1/install.sh | sudo sh -s -- --join-token 't'\\''x' --label 'a=b c'`,
  );
});
