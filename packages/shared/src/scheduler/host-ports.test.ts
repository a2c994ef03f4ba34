import { describe, expect, it } from "vitest";
import { findPortConflict, formatHostBinding, takesHostPort, usedHostPortsOf } from "./host-ports";
import { hostPort } from "./test-factories";
import type { UsedHostPort } from "./types";

describe("host ports", () => {
  const used: UsedHostPort[] = [
    { port: 80, protocol: "tcp" },
    { port: 53, protocol: "udp", hostIp: "10.0.0.1" },
    { port: 443, protocol: "tcp", hostIp: "127.0.0.1" },
  ];
  const conflicts: { name: string; wanted: ReturnType<typeof hostPort>; clash: UsedHostPort | undefined }[] =
    [
      { name: "the same port on every address", wanted: hostPort(80), clash: used[0] },
      { name: "the same port on one address", wanted: hostPort(80, { hostIp: "10.0.0.9" }), clash: used[0] },
      { name: "another protocol", wanted: hostPort(80, { protocol: "udp" }), clash: undefined },
      { name: "the last binding", wanted: hostPort(443), clash: used[2] },
      {
        name: "another address of a bound one",
        wanted: hostPort(53, { protocol: "udp", hostIp: "10.0.0.2" }),
        clash: undefined,
      },
      { name: "a port nobody binds", wanted: hostPort(8080), clash: undefined },
    ];
  it.each(conflicts)("findPortConflict: $name", ({ wanted, clash }) => {
    if (!takesHostPort(wanted)) throw new Error("test mapping without a host port");
    expect(findPortConflict(wanted, used)).toBe(clash);
    expect(findPortConflict(wanted, [])).toBeUndefined();
  });

  const takes: { name: string; mapping: Parameters<typeof takesHostPort>[0]; takes: boolean }[] = [
    { name: "a host port", mapping: { containerPort: 80, hostPort: 8080, protocol: "tcp" }, takes: true },
    { name: "host port 1", mapping: { containerPort: 80, hostPort: 1, protocol: "tcp" }, takes: true },
    {
      name: "host port 0 (the engine picks)",
      mapping: { containerPort: 80, hostPort: 0, protocol: "tcp" },
      takes: false,
    },
    { name: "no host port", mapping: { containerPort: 80, protocol: "tcp" }, takes: false },
  ];
  it.each(takes)("takesHostPort: $name", ({ mapping, takes: expected }) => {
    expect(takesHostPort(mapping)).toBe(expected);
  });

  it("usedHostPortsOf keeps the bindings that take a host port, with their address", () => {
    expect(
      usedHostPortsOf([
        hostPort(80),
        { containerPort: 9000, protocol: "tcp" },
        { containerPort: 9001, hostPort: 0, protocol: "tcp" },
        hostPort(53, { protocol: "udp", hostIp: "::1" }),
      ]),
    ).toEqual([
      { port: 80, protocol: "tcp" },
      { port: 53, protocol: "udp", hostIp: "::1" },
    ]);
    expect(Object.keys(usedHostPortsOf([hostPort(80)])[0]!)).toEqual(["port", "protocol"]);
  });

  const formats: { binding: Parameters<typeof formatHostBinding>[0]; text: string }[] = [
    { binding: { port: 80, protocol: "tcp" }, text: "*:80/tcp" },
    { binding: { port: 80, protocol: "tcp", hostIp: "" }, text: "*:80/tcp" },
    { binding: { port: 53, protocol: "udp", hostIp: "10.0.0.1" }, text: "10.0.0.1:53/udp" },
    { binding: { port: 53, protocol: "udp", hostIp: "::1" }, text: "[::1]:53/udp" },
  ];
  it.each(formats)("formatHostBinding: $text", ({ binding, text }) => {
    expect(formatHostBinding(binding)).toBe(text);
  });
});
