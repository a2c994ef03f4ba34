import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ProcessGoneError } from "./errors";
import { parseNetDev, readNetCounters, sumNetCounters } from "./network";
import { v1Pid, v1Root } from "./testing/fixtures";

describe("parseNetDev", () => {
  it("reads every interface of a network namespace", () => {
    const text = readFileSync(join(v1Root, "proc", String(v1Pid), "net/dev"), "utf8");
    expect(parseNetDev(text)).toEqual([
      { name: "lo", rxBytes: 336, rxPackets: 4, txBytes: 336, txPackets: 4 },
      { name: "eth0", rxBytes: 852, rxPackets: 10, txBytes: 852, txPackets: 10 },
    ]);
  });

  it("reads lines where a wide number touches the colon, as old kernels print them", () => {
    const line =
      "  eth0:4294967296 3000000    0    0    0     0          0         0 123456789   2000    0    0    0     0       0          0";
    expect(parseNetDev(line)).toEqual([
      { name: "eth0", rxBytes: 4294967296, rxPackets: 3000000, txBytes: 123456789, txPackets: 2000 },
    ]);
  });
});

describe("readNetCounters", () => {
  it("sums all interfaces except loopback", async () => {
    await expect(readNetCounters(v1Pid, { rootfs: v1Root })).resolves.toEqual({
      rxBytes: 852,
      rxPackets: 10,
      txBytes: 852,
      txPackets: 10,
    });
  });

  it("adds interfaces together", () => {
    const total = sumNetCounters([
      { name: "eth0", rxBytes: 1, rxPackets: 2, txBytes: 3, txPackets: 4 },
      { name: "eth1", rxBytes: 10, rxPackets: 20, txBytes: 30, txPackets: 40 },
      { name: "lo", rxBytes: 100, rxPackets: 100, txBytes: 100, txPackets: 100 },
    ]);
    expect(total).toEqual({ rxBytes: 11, rxPackets: 22, txBytes: 33, txPackets: 44 });
  });

  it("says the process is gone when it has exited", async () => {
    await expect(readNetCounters(999_999_999, { rootfs: v1Root })).rejects.toBeInstanceOf(ProcessGoneError);
  });
});
