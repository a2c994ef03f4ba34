import { describe, expect, it } from "vitest";
import { containerFilterQuery, isFiltered, listInputOf, parseContainerFilter } from "./container-query";

describe("container list filter in the query string", () => {
  it("reads host, deployment, states, image and name", () => {
    const filter = parseContainerFilter(
      new URLSearchParams(
        "host=h-1&deployment=d_2&state=running,exited&health=unhealthy&image=busy&name=web",
      ),
    );
    expect(filter).toEqual({
      hostId: "h-1",
      deploymentId: "d_2",
      states: ["running", "exited"],
      health: "unhealthy",
      image: "busy",
      name: "web",
    });
    expect(listInputOf(filter)).toEqual({
      hostId: "h-1",
      deploymentId: "d_2",
      state: ["running", "exited"],
      health: "unhealthy",
      image: "busy",
      name: "web",
    });
  });

  it("accepts repeated state keys and ignores unknown states and odd ids", () => {
    const filter = parseContainerFilter(
      new URLSearchParams("state=exited&state=bogus&state=running&host=a%20b&health=sick"),
    );
    expect(filter.states).toEqual(["running", "exited"]);
    expect(filter.health).toBeNull();
    expect(filter.hostId).toBeNull();
    expect(listInputOf(filter)).toEqual({ state: ["running", "exited"] });
  });

  it("leaves out what is not set and round-trips", () => {
    const empty = parseContainerFilter(new URLSearchParams(""));
    expect(isFiltered(empty)).toBe(false);
    expect(listInputOf(empty)).toEqual({});
    const query = containerFilterQuery({ ...empty, states: ["failed"], health: "starting", name: "  api " });
    expect(query).toBe("?state=failed&health=starting&name=api");
    expect(parseContainerFilter(new URLSearchParams(query))).toEqual({
      ...empty,
      states: ["failed"],
      health: "starting",
      name: "api",
    });
  });
});
