import { hostname } from "node:os";
import { expect, test } from "vitest";
import { EnvError, inheritedEnv, loadDatabaseEnv, loadEnv } from "./env";

test("defaults: port 3000 on all addresses, intervals and retention in milliseconds", () => {
  const env = loadEnv({});
  expect(env).toMatchObject({
    NODE_ENV: "development",
    PORT: 3000,
    HOST: "0.0.0.0",
    FLEET_DATA_DIR: "./.fleet",
    FLEET_PUBLIC_URL: `http://${hostname()}:3000`,
    FLEET_HEARTBEAT_INTERVAL: 5000,
    FLEET_OFFLINE_AFTER: 15_000,
    FLEET_METRICS_INTERVAL: 5000,
    FLEET_RETENTION_RAW: 86_400_000,
    FLEET_RETENTION_MINUTE: 7 * 86_400_000,
    FLEET_RETENTION_HOUR: 90 * 86_400_000,
    FLEET_LOG_LEVEL: "info",
  });
  expect(env.DATABASE_URL).toBeUndefined();
  expect(env.FLEET_BOOTSTRAP_TOKEN).toBeUndefined();
});

test("reads only what it is given, ignores other variables, treats blanks as unset", () => {
  const env = loadEnv({ PORT: "8080", FLEET_OFFLINE_AFTER: "1m30s", DATABASE_URL: "  ", UNRELATED: "x" });
  expect(env.PORT).toBe(8080);
  expect(env.FLEET_OFFLINE_AFTER).toBe(90_000);
  expect(env.DATABASE_URL).toBeUndefined();
  expect(env).not.toHaveProperty("UNRELATED");
});

test("the public URL follows TLS and loses its trailing slash", () => {
  expect(loadEnv({ FLEET_TLS_CERT: "c.pem", FLEET_TLS_KEY: "k.pem", PORT: "443" }).FLEET_PUBLIC_URL).toBe(
    `https://${hostname()}:443`,
  );
  expect(loadEnv({ FLEET_PUBLIC_URL: "https://fleet.example.com/" }).FLEET_PUBLIC_URL).toBe(
    "https://fleet.example.com",
  );
});

test("every bad variable is named in one error", () => {
  expect(() =>
    loadEnv({
      PORT: "http",
      FLEET_RETENTION_RAW: "a day",
      FLEET_LOG_LEVEL: "loud",
      FLEET_BOOTSTRAP_TOKEN: "short",
    }),
  ).toThrow(
    new EnvError(
      'invalid configuration: PORT: must be a number; FLEET_BOOTSTRAP_TOKEN: must be at least 24 characters (e.g. openssl rand -hex 24); FLEET_RETENTION_RAW: invalid duration "a day": use a number with a unit ms, s, m, h or d, e.g. 500ms, 1h30m; FLEET_LOG_LEVEL: must be one of "trace", "debug", "info", "warn", "error", "fatal", "silent"',
    ),
  );
  expect(() => loadEnv({ FLEET_TLS_CERT: "c.pem" })).toThrow(
    /FLEET_TLS_CERT and FLEET_TLS_KEY must be set together/,
  );
  expect(() => loadEnv({ FLEET_PUBLIC_URL: "ftp://x" })).toThrow(/FLEET_PUBLIC_URL/);
  expect(() => loadEnv({ FLEET_HEARTBEAT_INTERVAL: "0s" })).toThrow(/must be longer than zero/);
});

test("the database's variables load alone: a setting only the central reads does not stop db:migrate", () => {
  expect(loadDatabaseEnv({ FLEET_BOOTSTRAP_TOKEN: "short", DATABASE_URL: " " })).toEqual({
    FLEET_DATA_DIR: "./.fleet",
  });
  expect(loadDatabaseEnv({ FLEET_DATA_DIR: "/srv/fleet", FLEET_EMBEDDED_DB_PORT: "15433" })).toEqual({
    FLEET_DATA_DIR: "/srv/fleet",
    FLEET_EMBEDDED_DB_PORT: 15433,
  });
  expect(() => loadDatabaseEnv({ FLEET_EMBEDDED_DB_PORT: "abc" })).toThrow(EnvError);
});

test("children inherit NODE_ENV and PATH and nothing else", () => {
  expect(inheritedEnv({ NODE_ENV: "production", PATH: "/bin", PGPASSWORD: "secret" })).toEqual({
    NODE_ENV: "production",
    PATH: "/bin",
  });
});
