import { describe, expect, it } from "vitest";
import { mapEngineEvent } from "./event-mapping";

const ID = "a3bcdb3b116e80c2b8aa26e58a30c3680a1e14e2c727df9cf27670c1c4785e9a";
const LABELS = { "fleet.container-id": "c1", "fleet.managed": "true", "fleet.host-id": "h1" };

/** A container event in Docker 20.10's shape. */
function dockerEvent(
  action: string,
  extra: Record<string, string> = {},
  labels: Record<string, string> = LABELS,
) {
  return {
    status: action,
    id: ID,
    from: "127.0.0.1:15000/fleet-test/busybox:latest",
    Type: "container",
    Action: action,
    Actor: { ID, Attributes: { ...labels, ...extra, image: "x", name: "gracious_mccarthy" } },
    scope: "local",
    time: 1795805143,
    // More digits than a double holds: parsed as the agent parses the engine's JSON.
    timeNano: JSON.parse("1795805143228598285") as number,
  };
}

/** The same in Podman 4.3's compat shape: containerExitCode and podId on every event. */
function podmanEvent(action: string, extra: Record<string, string> = {}) {
  const event = dockerEvent(action, { containerExitCode: "0", podId: "", ...extra });
  return event;
}

describe("mapEngineEvent", () => {
  it("maps Docker's start, die (with exit code), oom and destroy", () => {
    expect(mapEngineEvent(dockerEvent("start"))).toEqual({
      kind: "start",
      engineId: ID,
      containerId: "c1",
      ts: new Date(1795805143228),
    });
    expect(mapEngineEvent(dockerEvent("die", { exitCode: "137" }))).toMatchObject({
      kind: "die",
      exitCode: 137,
    });
    expect(mapEngineEvent(dockerEvent("oom"))).toMatchObject({ kind: "oom", engineId: ID });
    expect(mapEngineEvent(dockerEvent("destroy"))).toMatchObject({ kind: "destroy", containerId: "c1" });
  });

  it("maps Podman's die and remove, and ignores its init and cleanup", () => {
    expect(mapEngineEvent(podmanEvent("die", { containerExitCode: "3", exitCode: "3" }))).toMatchObject({
      kind: "die",
      exitCode: 3,
    });
    expect(mapEngineEvent(podmanEvent("remove"))).toMatchObject({ kind: "destroy" });
    expect(mapEngineEvent(podmanEvent("init"))).toBeNull();
    expect(mapEngineEvent(podmanEvent("cleanup"))).toBeNull();
    expect(mapEngineEvent(podmanEvent("create"))).toBeNull();
  });

  it("reads the legacy status/id fields when Action/Actor are missing", () => {
    const legacy = { status: "start", id: ID, Actor: { Attributes: LABELS }, time: 1795805143 };
    expect(mapEngineEvent(legacy)).toMatchObject({
      kind: "start",
      engineId: ID,
      ts: new Date(1795805143000),
    });
  });

  it("drops events of unmanaged containers, other hosts and other object types", () => {
    expect(mapEngineEvent(dockerEvent("start", {}, { "fleet.container-id": "c1" }))).toBeNull();
    expect(mapEngineEvent(dockerEvent("start"), { hostId: "h2" })).toBeNull();
    expect(mapEngineEvent(dockerEvent("start"), { hostId: "h1" })).not.toBeNull();
    expect(mapEngineEvent({ ...dockerEvent("pull"), Type: "image" })).toBeNull();
    expect(mapEngineEvent("garbage")).toBeNull();
  });

  it("reports a die without a readable exit code as null", () => {
    expect(mapEngineEvent(dockerEvent("die"))).toMatchObject({ kind: "die", exitCode: null });
  });
});
