import { describe, expect, it } from "vitest";
import { makeContainerSpec, makeResources } from "../protocol/test-factories";
import {
  ContainerSpecError,
  DEFAULT_TMPFS_BYTES,
  formatMount,
  formatPortMapping,
  formatRestartPolicy,
  isBindPathAllowed,
  parseMount,
  parsePortMapping,
  parseRestartPolicy,
  parseTmpfs,
  portMappingsConflict,
  type TMount,
  type TPortMapping,
  type TRestartPolicy,
  volumeNamesOf,
  ZBindMountPrefixes,
  ZContainerSpec,
  ZMount,
  ZNetworkName,
  ZPortMapping,
  ZResources,
  ZRestartPolicy,
} from "./container-spec";

describe("restart policy", () => {
  it.each<[string, TRestartPolicy]>([
    ["no", { name: "no" }],
    ["always", { name: "always" }],
    ["on-failure", { name: "on-failure" }],
    ["on-failure:3", { name: "on-failure", maxRetries: 3 }],
    ["on-failure:0", { name: "on-failure", maxRetries: 0 }],
  ])("%j", (input, expected) => {
    expect(parseRestartPolicy(input)).toEqual(expected);
    expect(formatRestartPolicy(expected)).toBe(input);
  });

  it.each([
    "",
    "never",
    "always:3",
    "on-failure:",
    "on-failure:-1",
    "on-failure:x",
    "on-failure:1:2",
    "unless-stopped",
  ])("rejects %j", (input) => {
    expect(() => parseRestartPolicy(input)).toThrow(ContainerSpecError);
  });

  it("allows maxRetries only with on-failure", () => {
    expect(ZRestartPolicy.safeParse({ name: "always", maxRetries: 2 }).error?.issues[0]?.path).toEqual([
      "maxRetries",
    ]);
    expect(ZRestartPolicy.safeParse({ name: "on-failure", maxRetries: 2 }).success).toBe(true);
    expect(ZRestartPolicy.safeParse({ name: "on-failure", maxRetries: -1 }).success).toBe(false);
  });
});

describe("port mappings", () => {
  it.each<[string, TPortMapping, string]>([
    ["80", { containerPort: 80, protocol: "tcp" }, "80"],
    ["80/udp", { containerPort: 80, protocol: "udp" }, "80/udp"],
    ["8080:80", { containerPort: 80, hostPort: 8080, protocol: "tcp" }, "8080:80"],
    ["8080:80/tcp", { containerPort: 80, hostPort: 8080, protocol: "tcp" }, "8080:80"],
    ["8080:80/UDP", { containerPort: 80, hostPort: 8080, protocol: "udp" }, "8080:80/udp"],
    [
      "127.0.0.1:8080:80",
      { containerPort: 80, hostPort: 8080, protocol: "tcp", hostIp: "127.0.0.1" },
      "127.0.0.1:8080:80",
    ],
    ["127.0.0.1::80/udp", { containerPort: 80, protocol: "udp", hostIp: "127.0.0.1" }, "127.0.0.1::80/udp"],
    ["[::1]:8080:80", { containerPort: 80, hostPort: 8080, protocol: "tcp", hostIp: "::1" }, "[::1]:8080:80"],
    ["65535:1", { containerPort: 1, hostPort: 65535, protocol: "tcp" }, "65535:1"],
  ])("%j", (input, expected, printed) => {
    const mapping = parsePortMapping(input);
    expect(mapping).toEqual(expected);
    expect(ZPortMapping.parse(mapping)).toEqual(mapping);
    expect(formatPortMapping(mapping)).toBe(printed);
    expect(parsePortMapping(printed)).toEqual(mapping);
  });

  it.each([
    ["", /container port ""/],
    ["0", /container port "0"/],
    ["65536", /container port "65536"/],
    ["80/sctp", /protocol "sctp"/],
    [":80", /host port is empty/],
    ["8080:80:90:100", /expected containerPort/],
    ["999.0.0.1:8080:80", /not an IP address/],
    ["[::1]8080:80", /bracketed IPv6/],
    ["8000-8010:80-90", /port ranges/],
    ["abc:80", /host port "abc"/],
    ["8080:-80", /container port "-80"/],
  ])("rejects %j", (input, reason) => {
    expect(() => parsePortMapping(input)).toThrow(ContainerSpecError);
    expect(() => parsePortMapping(input)).toThrow(reason);
  });

  it("fills in tcp and checks ranges in the schema", () => {
    expect(ZPortMapping.parse({ containerPort: 80 })).toEqual({ containerPort: 80, protocol: "tcp" });
    expect(ZPortMapping.safeParse({ containerPort: 0 }).success).toBe(false);
    expect(ZPortMapping.safeParse({ containerPort: 80, hostPort: 70000 }).success).toBe(false);
    expect(ZPortMapping.safeParse({ containerPort: 80.5 }).success).toBe(false);
    expect(ZPortMapping.safeParse({ containerPort: 80, hostIp: "localhost" }).success).toBe(false);
  });

  it.each([
    ["8080:80", "8080:81", true],
    ["8080:80", "8080:80/udp", false],
    ["8080:80", "8081:80", false],
    ["127.0.0.1:8080:80", "127.0.0.2:8080:80", false],
    ["127.0.0.1:8080:80", "8080:80", true],
    ["0.0.0.0:8080:80", "127.0.0.1:8080:80", true],
    ["80", "80", false],
  ])("%j and %j conflict: %s", (a, b, expected) => {
    expect(portMappingsConflict(parsePortMapping(a), parsePortMapping(b))).toBe(expected);
  });
});

describe("mounts", () => {
  it.each<[string, TMount]>([
    ["data:/var/lib/app", { type: "volume", source: "data", target: "/var/lib/app", readOnly: false }],
    ["data:/var/lib/app:ro", { type: "volume", source: "data", target: "/var/lib/app", readOnly: true }],
    ["my_vol.1:/v:rw", { type: "volume", source: "my_vol.1", target: "/v", readOnly: false }],
    ["/srv/conf:/etc/app", { type: "bind", source: "/srv/conf", target: "/etc/app", readOnly: false }],
    [" /srv/conf:/etc/app:ro ", { type: "bind", source: "/srv/conf", target: "/etc/app", readOnly: true }],
  ])("reads -v %j", (input, expected) => {
    const mount = parseMount(input);
    expect(mount).toEqual(expected);
    expect(ZMount.parse(mount)).toEqual(expected);
    expect(parseMount(formatMount(mount))).toEqual(mount);
  });

  it.each<[string, string]>([
    ["data", "expected volume:/path, /host/path:/path"],
    ["a:/b:ro:x", "expected volume:/path, /host/path:/path"],
    ["data:/app:rx", 'mode "rx" must be ro or rw'],
    ["data:app", 'the container path "app" must be an absolute path'],
    ["data:/", 'the container path "/" must be an absolute path other than /'],
    ["data:/a/../etc", "must not contain '..'"],
    ["data:/a,b", "must not contain ':' or ','"],
    ["/:/host", 'the host path "/" must not be / itself'],
    ["/srv/../etc:/etc", "the host path \"/srv/../etc\" must not contain '..'"],
    ["-data:/app", 'the volume name "-data" must be 2-64 letters'],
    ["d:/app", 'the volume name "d" must be 2-64 letters'],
    [`${"v".repeat(65)}:/app`, "must be 2-64 letters"],
    ["da ta:/app", 'the volume name "da ta"'],
  ])("refuses -v %j, naming the problem", (input, problem) => {
    expect(() => parseMount(input)).toThrow(ContainerSpecError);
    expect(() => parseMount(input)).toThrow(`invalid mount "${input}": `);
    expect(() => parseMount(input)).toThrow(problem);
  });

  it.each<[string, number]>([
    ["/scratch", DEFAULT_TMPFS_BYTES],
    ["/scratch:size=16m", 16 * 1024 * 1024],
    ["/run/cache:size=4k", 4096],
    ["/big:size=64g", 64 * 1024 ** 3],
  ])("reads --tmpfs %j", (input, sizeBytes) => {
    const mount = parseTmpfs(input);
    expect(mount).toEqual({ type: "tmpfs", target: input.split(":")[0], sizeBytes });
    expect(ZMount.parse(mount)).toEqual(mount);
    expect(parseTmpfs(formatMount(mount))).toEqual(mount);
  });

  it.each<[string, string]>([
    ["scratch", 'the container path "scratch" must be an absolute path'],
    ["/", "must be an absolute path other than /"],
    ["/a:size=16m:x", "expected /path or /path:size=<bytes>"],
    ["/a:mode=1777", 'option "mode=1777" must be size=<bytes>'],
    ["/a:size=lots", 'invalid memory size "lots"'],
    ["/a:size=1k", "the size must be from 4k to 64g"],
    ["/a:size=65g", "the size must be from 4k to 64g"],
  ])("refuses --tmpfs %j, naming the problem", (input, problem) => {
    expect(() => parseTmpfs(input)).toThrow(ContainerSpecError);
    expect(() => parseTmpfs(input)).toThrow(`invalid tmpfs "${input}": `);
    expect(() => parseTmpfs(input)).toThrow(problem);
  });

  it("prints mounts in the syntax they are read in", () => {
    expect(formatMount({ type: "volume", source: "data", target: "/d", readOnly: true })).toBe("data:/d:ro");
    expect(formatMount({ type: "bind", source: "/srv/x", target: "/x", readOnly: false })).toBe("/srv/x:/x");
    expect(formatMount({ type: "tmpfs", target: "/t", sizeBytes: 65536 })).toBe("/t:size=65536");
  });

  it("lists each named volume once, leaving out binds and tmpfs", () => {
    expect(
      volumeNamesOf([
        { type: "volume", source: "data", target: "/a" },
        { type: "bind", source: "/srv/data", target: "/b" },
        { type: "tmpfs", target: "/c", sizeBytes: 4096 },
        { type: "volume", source: "data", target: "/d", readOnly: true },
        { type: "volume", source: "logs", target: "/e" },
      ]),
    ).toEqual(["data", "logs"]);
  });

  it("defaults a spec's mounts and networks to none, and refuses a target or network twice", () => {
    const { mounts: _m, networks: _n, ...older } = makeContainerSpec();
    expect(ZContainerSpec.parse(older)).toMatchObject({ mounts: [], networks: [] });
    const twice = ZContainerSpec.safeParse(
      makeContainerSpec({
        mounts: [
          { type: "volume", source: "data", target: "/d", readOnly: false },
          { type: "tmpfs", target: "/d", sizeBytes: 4096 },
        ],
        networks: ["front", "front"],
      }),
    );
    expect(twice.success).toBe(false);
    expect(twice.error?.issues.map((i) => [i.path, i.message])).toEqual([
      [["mounts", 1, "target"], "/d is mounted more than once"],
      [["networks", 1], "network front is listed twice"],
    ]);
  });

  it("refuses the engines' own networks as spec networks", () => {
    expect(ZNetworkName.safeParse("backend").success).toBe(true);
    for (const name of ["host", "none", "bridge", "default", "podman"]) {
      const result = ZNetworkName.safeParse(name);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.message).toMatch(/is an engine network/);
    }
  });
});

describe("isBindPathAllowed", () => {
  it.each([
    ["/srv/data", ["/srv/data"], true],
    ["/srv/data/x/y", ["/srv/data"], true],
    ["/srv/database", ["/srv/data"], false],
    ["/srv", ["/srv/data"], false],
    ["/etc", [], false],
    ["/opt/app", ["/srv/data", "/opt"], true],
  ] as const)("%s under %j: %s", (path, prefixes, allowed) => {
    expect(isBindPathAllowed(path, prefixes)).toBe(allowed);
  });
});

describe("ZBindMountPrefixes", () => {
  it("drops trailing slashes, doubled slashes and repeats", () => {
    expect(ZBindMountPrefixes.parse(["/srv/data/", "/srv//data", " /opt "])).toEqual(["/srv/data", "/opt"]);
  });

  it.each([
    ["/", "must not be / itself"],
    ["//", "must not be / itself"],
    ["srv/data", "must be an absolute path"],
    ["/srv/../etc", "must not contain '..'"],
  ])("refuses %j (%s)", (prefix, message) => {
    const parsed = ZBindMountPrefixes.safeParse([prefix]);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toContain(message);
  });

  it("takes at most 64", () => {
    const many = Array.from({ length: 65 }, (_, i) => `/srv/${i}`);
    expect(ZBindMountPrefixes.safeParse(many).success).toBe(false);
    expect(ZBindMountPrefixes.safeParse(many.slice(0, 64)).success).toBe(true);
  });
});

describe("ZResources", () => {
  it("accepts requests within limits and unlimited limits", () => {
    expect(ZResources.safeParse(makeResources()).success).toBe(true);
    expect(
      ZResources.safeParse(
        makeResources({
          cpuLimitMillis: null,
          memoryLimitBytes: null,
          pidsLimit: null,
          cpuRequestMillis: 4000,
        }),
      ).success,
    ).toBe(true);
  });

  it.each<[Partial<Record<string, unknown>>, string]>([
    [{ cpuRequestMillis: 600 }, "cpuRequestMillis"],
    [{ memoryRequestBytes: 65 * 1024 * 1024 }, "memoryRequestBytes"],
    [{ pidsRequest: 101 }, "pidsRequest"],
    [{ cpuLimitMillis: 5, cpuRequestMillis: 0 }, "cpuLimitMillis"],
    [{ memoryLimitBytes: 1024 * 1024, memoryRequestBytes: 0 }, "memoryLimitBytes"],
    [{ pidsLimit: 0, pidsRequest: 0 }, "pidsLimit"],
    [{ cpuRequestMillis: -1 }, "cpuRequestMillis"],
    [{ cpuRequestMillis: 0.5 }, "cpuRequestMillis"],
    [{ memoryLimitBytes: Number.NaN }, "memoryLimitBytes"],
  ])("rejects %j at %s", (overrides, path) => {
    const result = ZResources.safeParse({ ...makeResources(), ...overrides });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([path]);
  });
});

describe("ZContainerSpec", () => {
  it("accepts the factory's spec", () => {
    const spec = makeContainerSpec({ ports: [{ containerPort: 80, hostPort: 8080, protocol: "tcp" }] });
    expect(ZContainerSpec.parse(spec)).toEqual(spec);
  });

  it("strips unknown keys", () => {
    const spec = makeContainerSpec();
    expect(ZContainerSpec.parse({ ...spec, futureField: 1 })).toEqual(spec);
  });

  it.each<[string, Record<string, unknown>, (string | number)[]]>([
    ["an id with uppercase", { id: "C-1" }, ["id"]],
    ["an id of 65 characters", { id: "c".repeat(65) }, ["id"]],
    ["a one-character name", { name: "a" }, ["name"]],
    ["a name starting with '-'", { name: "-app" }, ["name"]],
    ["a name of 129 characters", { name: "a".repeat(129) }, ["name"]],
    ["an invalid image", { image: "Busybox" }, ["image"]],
    ["257 command arguments", { command: Array.from({ length: 257 }, () => "x") }, ["command"]],
    ["an argument over 8 KiB", { command: ["x".repeat(8 * 1024 + 1)] }, ["command", 0]],
    ["an env key starting with a digit", { env: { "1A": "x" } }, ["env", "1A"]],
    ["an env value with NUL", { env: { A: "a\0b" } }, ["env", "A"]],
    ["an env value over 32 KiB", { env: { A: "x".repeat(32 * 1024 + 1) } }, ["env", "A"]],
    [
      "257 env entries",
      { env: Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`K${i}`, "v"])) },
      ["env"],
    ],
    [
      "65 port mappings",
      { ports: Array.from({ length: 65 }, (_, i) => ({ containerPort: i + 1 })) },
      ["ports"],
    ],
    [
      "two mappings of one host port",
      {
        ports: [
          { containerPort: 80, hostPort: 8080 },
          { containerPort: 81, hostPort: 8080 },
        ],
      },
      ["ports", 1, "hostPort"],
    ],
    ["a reserved label", { labels: { "fleet.host-id": "h" } }, ["labels", "fleet.host-id"]],
    ["an invalid label", { labels: { "bad key": "v" } }, ["labels", "bad key"]],
  ])("rejects %s", (_what, overrides, path) => {
    const result = ZContainerSpec.safeParse({ ...makeContainerSpec(), ...overrides });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(path);
  });

  it("accepts a null command and the limits' edges", () => {
    const spec = makeContainerSpec({
      command: null,
      env: Object.fromEntries(Array.from({ length: 256 }, (_, i) => [`K${i}`, "v"])),
      ports: Array.from({ length: 64 }, (_, i) => ({ containerPort: i + 1, protocol: "tcp" as const })),
    });
    expect(ZContainerSpec.safeParse(spec).success).toBe(true);
  });
});
