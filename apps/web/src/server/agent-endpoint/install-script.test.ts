import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { findProjectPath } from "../db/project-paths";
import { readInstallScriptTemplate, renderInstallScript } from "./install-script";

const template = readInstallScriptTemplate();
const good = {
  serverUrl: "https://fleet.example.com:3443",
  pin: `sha256//${"A".repeat(43)}=`,
  agentSha256: "a".repeat(64),
};

test("writes the three values in as plain single-quoted words", () => {
  const script = renderInstallScript(template, good);
  expect(script).toContain("\nSERVER_URL='https://fleet.example.com:3443'\n");
  expect(script).toContain(`\nSERVED_PIN='${good.pin}'\n`);
  expect(script).toContain(`\nAGENT_SHA256='${good.agentSha256}'\n`);
  expect(renderInstallScript(template, { ...good, serverUrl: "https://[fd00::1]:3443" })).toContain(
    "\nSERVER_URL='https://[fd00::1]:3443'\n",
  );
});

test.each([
  ["serverUrl", "https://x';rm -rf /;'"],
  ["serverUrl", "https://x:1/path"],
  ["serverUrl", "http://x:1"],
  ["serverUrl", "https://$(reboot):1"],
  ["pin", "sha256//x'$(reboot)'"],
  ["agentSha256", "A".repeat(64)],
  ["agentSha256", "$(reboot)"],
])("refuses a %s a shell could read as more than a word: %s", (field, value) => {
  expect(() => renderInstallScript(template, { ...good, [field]: value })).toThrow();
});

test("a template without its placeholders is refused, so nothing unfilled is ever served", () => {
  expect(() => renderInstallScript("#!/bin/sh\n", good)).toThrow(/exactly once/);
});

test("the unit the script installs is the one apps/agent ships, comments aside", () => {
  const unit = /cat <<'UNIT'\n([\s\S]*?)\nUNIT\n/.exec(template)?.[1];
  const shipped = readFileSync(findProjectPath("apps/agent/deploy/fleet-agent.service"), "utf8")
    .split("\n")
    .filter((line) => !line.startsWith("#"))
    .join("\n")
    .trim();
  expect(unit).toBe(shipped);
});
