import { hashContainerSpec } from "@fleet/shared/domain/spec-hash";
import { makeContainerSpec } from "@fleet/shared/protocol/test-factories";
import { describe, expect, it } from "vitest";
import {
  containerColumnsOf,
  containerSpecFromRow,
  readContainerRow,
  type TContainerSpecRow,
} from "./container-row";

const MIB = 1024 * 1024;

type TDesiredContainerRow = TContainerSpecRow & { id: string; name: string };

function rowFrom(overrides: Partial<TDesiredContainerRow> = {}): TDesiredContainerRow {
  const spec = makeContainerSpec();
  return {
    id: "0190f0c2-7a4e-7b7e-8c1d-3f2a1b0c9d8e",
    name: "web-1",
    image: "127.0.0.1:5000/fleet/busybox:1.36",
    spec: { command: spec.command, env: spec.env, ports: spec.ports, labels: spec.labels },
    cpuRequestMillis: 100,
    cpuLimitMillis: 500,
    memoryRequestBytes: BigInt(32 * MIB),
    memoryLimitBytes: BigInt(64 * MIB),
    pidsRequest: 10,
    pidsLimit: null,
    restartPolicy: "on_failure",
    restartMaxRetries: 3,
    ...overrides,
  };
}

describe("containerSpecFromRow", () => {
  it("builds the spec from the JSON and the columns, the columns winning", () => {
    const result = containerSpecFromRow(
      rowFrom({ spec: { command: ["sleep", "1"], env: { A: "1" }, ports: [], labels: {}, name: "stale" } }),
    );
    expect(result).toEqual({
      ok: true,
      spec: {
        id: "0190f0c2-7a4e-7b7e-8c1d-3f2a1b0c9d8e",
        name: "web-1",
        image: "127.0.0.1:5000/fleet/busybox:1.36",
        command: ["sleep", "1"],
        env: { A: "1" },
        ports: [],
        labels: {},
        resources: {
          cpuRequestMillis: 100,
          cpuLimitMillis: 500,
          memoryRequestBytes: 32 * MIB,
          memoryLimitBytes: 64 * MIB,
          pidsRequest: 10,
          pidsLimit: null,
        },
        restartPolicy: { name: "on-failure", maxRetries: 3 },
        mounts: [],
        networks: [],
        healthCheck: null,
      },
    });
  });

  it("passes the stored mounts and networks through to the agent", () => {
    const mounts = [
      { type: "volume", source: "data", target: "/var/lib/app", readOnly: false },
      { type: "tmpfs", target: "/scratch", sizeBytes: 16 * MIB },
    ];
    const result = containerSpecFromRow(rowFrom({ spec: { mounts, networks: ["backend"] } }));
    expect(result.ok && result.spec).toMatchObject({ mounts, networks: ["backend"] });
  });

  it("spells restart policies the protocol's way", () => {
    const always = containerSpecFromRow(rowFrom({ restartPolicy: "always", restartMaxRetries: null }));
    const forever = containerSpecFromRow(rowFrom({ restartPolicy: "on_failure", restartMaxRetries: null }));
    expect(always.ok && always.spec.restartPolicy).toEqual({ name: "always" });
    expect(forever.ok && forever.spec.restartPolicy).toEqual({ name: "on-failure" });
  });

  it("fills what an older row's JSON lacks with the spec's empty values", () => {
    const result = containerSpecFromRow(rowFrom({ spec: {} }));
    expect(result.ok && result.spec).toMatchObject({
      command: null,
      env: {},
      ports: [],
      labels: {},
      mounts: [],
      networks: [],
    });
  });

  it("gives equal hashes for equal rows, so the agent does not replace a container for nothing", () => {
    const a = containerSpecFromRow(rowFrom());
    const b = containerSpecFromRow(rowFrom());
    if (!a.ok || !b.ok) throw new Error("rows should be valid");
    expect(hashContainerSpec(a.spec)).toBe(hashContainerSpec(b.spec));
  });

  it("reports a row the protocol cannot carry instead of throwing", () => {
    const result = containerSpecFromRow(rowFrom({ spec: { labels: { "fleet.host-id": "x" } } }));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/reserved/);
    const badMemory = containerSpecFromRow(rowFrom({ memoryLimitBytes: 1024n, memoryRequestBytes: 0n }));
    expect(!badMemory.ok && badMemory.error).toMatch(/memoryLimitBytes/);
  });
});

describe("readContainerRow", () => {
  it("reads what containerColumnsOf wrote", () => {
    const spec = makeContainerSpec();
    const parts = {
      image: spec.image,
      command: ["sleep", "1"],
      env: { A: "1" },
      ports: spec.ports,
      labels: { tier: "web" },
      resources: spec.resources,
      restartPolicy: { name: "on-failure" as const, maxRetries: 3 },
      mounts: [{ type: "tmpfs" as const, target: "/scratch", sizeBytes: 16 * MIB }],
      networks: ["backend"],
      healthCheck: {
        test: { type: "http" as const, port: 80, path: "/healthz" },
        intervalMs: 1000,
        timeoutMs: 500,
        retries: 2,
        startPeriodMs: 0,
        restartOnUnhealthy: true,
      },
    };
    const columns = containerColumnsOf(parts);
    // As Postgres gives the JSON back.
    const stored = JSON.parse(JSON.stringify(columns.spec));
    expect(readContainerRow({ ...columns, spec: stored })).toEqual(parts);
  });

  it("fills what an older row's JSON lacks with the same empty values as the strict reading", () => {
    const row = rowFrom({ spec: {} });
    const strict = containerSpecFromRow(row);
    if (!strict.ok) throw new Error("row should be valid");
    const { id: _id, name: _name, ...parts } = strict.spec;
    expect(readContainerRow(row)).toEqual(parts);
  });

  it("keeps showing a row whose JSON the protocol no longer accepts, each bad part read as empty", () => {
    const row = rowFrom({
      spec: { command: "sleep 1", env: { A: 1 }, ports: [{ containerPort: "x" }], labels: { tier: "web" } },
    });
    expect(containerSpecFromRow(row).ok).toBe(false);
    expect(readContainerRow(row)).toMatchObject({
      command: null,
      env: {},
      ports: [],
      labels: { tier: "web" },
      mounts: [],
      networks: [],
    });
    expect(readContainerRow(rowFrom({ spec: ["not", "an", "object"] }))).toMatchObject({
      command: null,
      env: {},
    });
  });
});
