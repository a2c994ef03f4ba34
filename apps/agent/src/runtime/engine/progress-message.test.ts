import { describe, expect, it } from "vitest";
import { JsonObjectSplitter } from "./json-stream";
import {
  BuildOutputLines,
  builtImageId,
  parseProgressMessage,
  progressError,
  pulledDigest,
  pushedDigest,
  toPullProgress,
} from "./progress-message";

// Messages as the engines sent them on this machine (Docker 20.10, Podman 4.3).
const PODMAN_PULL_MISSING =
  '{"progressDetail":{},"errorDetail":{"message":"initializing source docker://127.0.0.1:15000/nope:latest: reading manifest latest in 127.0.0.1:15000/nope: manifest unknown: manifest unknown"},"error":"initializing source docker://127.0.0.1:15000/nope:latest: reading manifest latest in 127.0.0.1:15000/nope: manifest unknown: manifest unknown"}\n';
const DOCKER_BUILD_FAILED =
  '{"errorDetail":{"code":3,"message":"The command \'/bin/sh -c echo hi; exit 3\' returned a non-zero code: 3"},"error":"The command \'/bin/sh -c echo hi; exit 3\' returned a non-zero code: 3"}\r\n';
const PODMAN_BUILD_FAILED =
  '{"errorDetail":{"message":"building at STEP \\"RUN echo hi; exit 3\\": while running runtime: exit status 3\\n"},"error":"building at STEP \\"RUN echo hi; exit 3\\": while running runtime: exit status 3\\n"}\n';
const DOCKER_PUSH_MISSING_TAG =
  '{"errorDetail":{"message":"tag does not exist: 127.0.0.1:15000/fleet-test/busybox:lates"},"error":"tag does not exist: 127.0.0.1:15000/fleet-test/busybox:lates"}\r\n';
const DOCKER_PULL_PROGRESS =
  '{"status":"Downloading","progressDetail":{"current":32768,"total":1083603},"progress":"[=\\u003e   ]  32.77kB/1.084MB","id":"89e3953a3486"}\r\n';
const DOCKER_PUSH_AUX =
  '{"progressDetail":{},"aux":{"Tag":"latest","Digest":"sha256:0d23562265cd4499d3af48fe38ebc6710938d458b335eb71e2aa87920665f796","Size":736}}\r\n';
const PODMAN_PUSH_STATUS =
  '{"status":"latest: digest: sha256:cb4261cf21d103713b903af499b046be528e922881a94aae7d7c328cdfbdb7d4 size: 581"}\n';
// Podman put these two in one chunk.
const PODMAN_BUILD_TAIL =
  '{"aux":{"ID":"sha256:369c8b1c8161f93deedbde2069199bba54a5a6181de6a8b71f5f510ae61df6fd"}}\n{"stream":"Successfully built 369c8b1c8161\\n"}\n';

function messages(text: string) {
  return new JsonObjectSplitter().push(Buffer.from(text)).map(parseProgressMessage);
}

describe("progressError", () => {
  it("finds the error inside Docker's and Podman's progress streams", () => {
    const [podmanPull] = messages(PODMAN_PULL_MISSING);
    expect(progressError(podmanPull!)).toBe(
      "initializing source docker://127.0.0.1:15000/nope:latest: reading manifest latest in 127.0.0.1:15000/nope: manifest unknown: manifest unknown",
    );
    const [dockerBuild] = messages(DOCKER_BUILD_FAILED);
    expect(progressError(dockerBuild!)).toBe(
      "The command '/bin/sh -c echo hi; exit 3' returned a non-zero code: 3",
    );
    const [podmanBuild] = messages(PODMAN_BUILD_FAILED);
    // Podman ends the message with a newline; it is trimmed.
    expect(progressError(podmanBuild!)).toBe(
      'building at STEP "RUN echo hi; exit 3": while running runtime: exit status 3',
    );
    const [dockerPush] = messages(DOCKER_PUSH_MISSING_TAG);
    expect(progressError(dockerPush!)).toMatch(/^tag does not exist/);
  });

  it("finds none in ordinary progress", () => {
    const [progress] = messages(DOCKER_PULL_PROGRESS);
    expect(progressError(progress!)).toBeNull();
    expect(toPullProgress(progress!)).toEqual({
      status: "Downloading",
      id: "89e3953a3486",
      current: 32768,
      total: 1083603,
    });
  });
});

describe("pushedDigest", () => {
  it("reads Docker's aux.Digest and Podman's status line", () => {
    expect(pushedDigest(messages(DOCKER_PUSH_AUX)[0]!)).toBe(
      "sha256:0d23562265cd4499d3af48fe38ebc6710938d458b335eb71e2aa87920665f796",
    );
    expect(pushedDigest(messages(PODMAN_PUSH_STATUS)[0]!)).toBe(
      "sha256:cb4261cf21d103713b903af499b046be528e922881a94aae7d7c328cdfbdb7d4",
    );
    expect(pushedDigest(messages(DOCKER_PULL_PROGRESS)[0]!)).toBeNull();
  });
});

describe("pulledDigest", () => {
  it("reads Docker's digest status line", () => {
    const docker =
      '{"status":"Digest: sha256:cb4261cf21d103713b903af499b046be528e922881a94aae7d7c328cdfbdb7d4"}\r\n';
    expect(pulledDigest(messages(docker)[0]!)).toBe(
      "sha256:cb4261cf21d103713b903af499b046be528e922881a94aae7d7c328cdfbdb7d4",
    );
    expect(pulledDigest(messages(DOCKER_PULL_PROGRESS)[0]!)).toBeNull();
  });
});

describe("JsonObjectSplitter", () => {
  it("splits objects sharing a chunk and objects split across chunks, at every offset", () => {
    const text = DOCKER_PULL_PROGRESS + PODMAN_BUILD_TAIL + PODMAN_PUSH_STATUS;
    const whole = messages(text);
    expect(whole).toHaveLength(4);
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut += 7) {
      const splitter = new JsonObjectSplitter();
      const parts = [...splitter.push(bytes.subarray(0, cut)), ...splitter.push(bytes.subarray(cut))];
      expect(parts.map(parseProgressMessage)).toEqual(whole);
    }
  });

  it("keeps braces and quotes inside strings from confusing it", () => {
    const splitter = new JsonObjectSplitter();
    const objects = splitter.push('{"stream":"a } \\" { b"}{"stream":"c"}');
    expect(objects).toEqual([{ stream: 'a } " { b' }, { stream: "c" }]);
  });

  it("does not split a multi-byte character across chunks", () => {
    const bytes = Buffer.from('{"stream":"é"}');
    const splitter = new JsonObjectSplitter();
    const parts = [...splitter.push(bytes.subarray(0, 12)), ...splitter.push(bytes.subarray(12))];
    expect(parts).toEqual([{ stream: "é" }]);
  });
});

describe("build output", () => {
  it("joins Docker's split step lines and takes the image id from aux", () => {
    const lines = new BuildOutputLines();
    const out = [
      ...lines.push({ stream: "Step 1/4 : FROM scratch" }),
      ...lines.push({ stream: "\n" }),
      ...lines.push({ stream: " ---\u003e 8847fe1941d5\n" }),
    ];
    expect(out).toEqual(["Step 1/4 : FROM scratch", " ---> 8847fe1941d5"]);
    const [aux, text] = messages(PODMAN_BUILD_TAIL);
    expect(builtImageId(aux!)).toBe(
      "sha256:369c8b1c8161f93deedbde2069199bba54a5a6181de6a8b71f5f510ae61df6fd",
    );
    expect(lines.push(text!)).toEqual(["Successfully built 369c8b1c8161"]);
    expect(lines.push({ stream: "no newline" })).toEqual([]);
    expect(lines.end()).toEqual(["no newline"]);
  });
});
