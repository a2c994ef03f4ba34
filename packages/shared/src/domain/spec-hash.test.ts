import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { makeContainerSpec } from "../protocol/test-factories";
import { canonicalJson, hashContainerSpec } from "./spec-hash";

describe("canonicalJson", () => {
  it("sorts keys at every level and keeps array order", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });
});

describe("hashContainerSpec", () => {
  const spec = makeContainerSpec({ id: "c-hash", name: "app-hash", env: { A: "1", B: "2" } });

  it("is the sha256 hex of the canonical JSON", () => {
    const { mounts: _mounts, networks: _networks, healthCheck: _healthCheck, ...withoutEmpty } = spec;
    const expected = createHash("sha256").update(canonicalJson(withoutEmpty)).digest("hex");
    expect(hashContainerSpec(spec)).toBe(expected);
    expect(hashContainerSpec(spec)).toMatch(/^[a-f0-9]{64}$/);
  });

  it("ignores key order", () => {
    const reordered = Object.fromEntries(Object.entries(spec).reverse()) as typeof spec;
    reordered.env = { B: "2", A: "1" };
    expect(hashContainerSpec(reordered)).toBe(hashContainerSpec(spec));
  });

  it("hashes a spec written before mounts, networks and health checks existed as it did then", () => {
    const { mounts: _mounts, networks: _networks, healthCheck: _healthCheck, ...olderSpec } = spec;
    expect(hashContainerSpec(olderSpec)).toBe(hashContainerSpec(spec));
    expect(hashContainerSpec(olderSpec)).toBe(
      createHash("sha256").update(canonicalJson(olderSpec)).digest("hex"),
    );
  });

  it("changes with the health check", () => {
    const checked = { ...spec, healthCheck: { test: { type: "tcp" as const, port: 80 } } };
    expect(hashContainerSpec(checked)).not.toBe(hashContainerSpec(spec));
    expect(hashContainerSpec({ ...checked, healthCheck: { ...checked.healthCheck, retries: 3 } })).toBe(
      hashContainerSpec(checked),
    );
  });

  it("ignores defaults written out and unknown keys", () => {
    const withPort = { ...spec, ports: [{ containerPort: 80 }] };
    const withPortTcp = { ...spec, ports: [{ containerPort: 80, protocol: "tcp" as const }], extra: true };
    expect(hashContainerSpec(withPort)).toBe(hashContainerSpec(withPortTcp));
  });

  it.each([
    ["image", { image: "busybox:1.37" }],
    ["command", { command: ["sleep", "1"] }],
    ["env", { env: { A: "1", B: "3" } }],
    ["memory limit", { resources: { ...spec.resources, memoryLimitBytes: 128 * 1024 * 1024 } }],
    ["restart policy", { restartPolicy: { name: "always" as const } }],
    ["mounts", { mounts: [{ type: "volume" as const, source: "data", target: "/data", readOnly: false }] }],
    ["networks", { networks: ["backend"] }],
    ["labels", { labels: { app: "other" } }],
  ])("changes when the %s changes", (_what, overrides) => {
    expect(hashContainerSpec({ ...spec, ...overrides })).not.toBe(hashContainerSpec(spec));
  });

  it("throws on an invalid spec", () => {
    expect(() => hashContainerSpec({ ...spec, id: "BAD" })).toThrow();
  });
});
