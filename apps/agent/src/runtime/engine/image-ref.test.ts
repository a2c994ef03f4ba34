import { describe, expect, it } from "vitest";
import { chooseRepoDigest, registryDigestOf, sameRepository, toEngineImageRef } from "./image-ref";

describe("toEngineImageRef", () => {
  it("keeps a registry port out of the tag", () => {
    expect(toEngineImageRef("127.0.0.1:5000/fleet-test/busybox", "pull", "pull-failed")).toMatchObject({
      repository: "127.0.0.1:5000/fleet-test/busybox",
      version: "latest",
      registry: "127.0.0.1:5000",
    });
    expect(toEngineImageRef("127.0.0.1:5000/app:1.2", "pull", "pull-failed")).toMatchObject({
      repository: "127.0.0.1:5000/app",
      version: "1.2",
    });
  });

  it("asks for a digest when there is one, and names Docker Hub images as the engine does", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    expect(toEngineImageRef(`busybox@${digest}`, "pull", "pull-failed")).toMatchObject({
      repository: "busybox",
      version: digest,
      digest,
    });
    expect(toEngineImageRef("team/app:2", "pull", "pull-failed").repository).toBe("team/app");
  });

  it("rejects an invalid reference with the action's error code", () => {
    expect(() => toEngineImageRef("Bad/Name", "pull Bad/Name", "pull-failed")).toThrow(
      expect.objectContaining({
        code: "pull-failed",
        message: expect.stringMatching(/^pull Bad\/Name failed: /),
      }),
    );
  });

  it("matches RepoDigests entries by repository", () => {
    const ref = toEngineImageRef("127.0.0.1:5000/app:1", "pull", "pull-failed");
    expect(sameRepository("127.0.0.1:5000/app", ref)).toBe(true);
    expect(sameRepository("127.0.0.1:5001/app", ref)).toBe(false);
    expect(
      sameRepository("busybox", toEngineImageRef("docker.io/library/busybox", "pull", "pull-failed")),
    ).toBe(true);
  });
});

describe("chooseRepoDigest", () => {
  const ref = toEngineImageRef("127.0.0.1:5000/app:1", "pull", "pull-failed");
  const local = `127.0.0.1:5000/app@sha256:${"5".repeat(64)}`;
  const pushed = `127.0.0.1:5000/app@sha256:${"1".repeat(64)}`;
  const elsewhere = `127.0.0.1:5001/app@sha256:${"9".repeat(64)}`;

  it("takes the only digest of the repository", () => {
    expect(chooseRepoDigest([elsewhere, pushed], [], ref)).toBe(`sha256:${"1".repeat(64)}`);
  });

  it("takes the new one when Podman lists its local manifest's digest too", () => {
    // Podman 4.3 after building, pushing and pulling the same image: both, sorted, in RepoDigests.
    expect(chooseRepoDigest([pushed, local], [local], ref)).toBe(`sha256:${"1".repeat(64)}`);
  });

  it("says null rather than guess", () => {
    expect(chooseRepoDigest([pushed, local], [], ref)).toBeNull();
    expect(chooseRepoDigest([elsewhere], [], ref)).toBeNull();
  });
});

describe("registryDigestOf", () => {
  const a = `sha256:${"a".repeat(64)}`;
  const b = `sha256:${"b".repeat(64)}`;

  it("picks the entry of the container's repository, however the engine qualifies the name", () => {
    const digests = [`127.0.0.1:5000/team/app@${a}`, `docker.io/team/app@${b}`];
    expect(registryDigestOf(digests, "127.0.0.1:5000/team/app:1")).toBe(a);
    // Podman reports `docker.io/team/app:2` for `team/app:2`; Docker lists `team/app@…`.
    expect(registryDigestOf(digests, "team/app:2")).toBe(b);
    expect(registryDigestOf([`team/app@${b}`], "docker.io/team/app:2")).toBe(b);
    expect(registryDigestOf([`busybox@${a}`], "docker.io/library/busybox:latest")).toBe(a);
  });

  it("is null without an entry for the repository, or with several different ones", () => {
    expect(registryDigestOf([], "team/app:1")).toBeNull();
    expect(registryDigestOf([`other/app@${a}`], "team/app:1")).toBeNull();
    expect(registryDigestOf([`team/app@${a}`, `docker.io/team/app@${b}`], "team/app:1")).toBeNull();
    expect(registryDigestOf([`team/app@${a}`, `docker.io/team/app@${a}`], "team/app:1")).toBe(a);
    expect(registryDigestOf([`team/app@${a}`], "Not A Reference")).toBeNull();
  });

  it("trusts a reference pinned by digest", () => {
    expect(registryDigestOf([], `team/app@${a}`)).toBe(a);
    expect(registryDigestOf([`team/app@${b}`], `team/app:1@${a}`)).toBe(a);
  });
});
