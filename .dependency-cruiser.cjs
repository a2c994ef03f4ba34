// The rooms of ARCHITECTURE.md and the one-way layers inside the central, as
// rules that `npm run lint` checks (dependency-cruiser). Type-only imports
// count: a type import still ties a lower room to a higher one.
//
// Paths match with `(^|/)` in front so that the fixtures under
// test/room-rules/fixtures, a copy of the rooms with one violation per rule,
// are judged by the same rules (room-rules.test.ts).

const SERVER = "(^|/)apps/web/src/server/";
// What assembles the central: the HTTP servers, the composition root, the tRPC
// plumbing, uploads, /metrics and the calls between replicas (/internal/).
const WIRING = `${SERVER}(app-server|central|trpc|uploads|prometheus|http-guards|internal-endpoint|routed-image-jobs)\\.ts$|${SERVER}agent-endpoint/`;
// Tests and their helpers may reach anywhere to build what they test.
const TEST_CODE = "\\.test\\.tsx?$|/testing/";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "agent-not-central",
      comment:
        "The agent meets the central only through @fleet/shared's protocol: it never imports apps/web, the CLI or Prisma.",
      severity: "error",
      from: { path: "(^|/)apps/agent/" },
      to: { path: "(^|/)(apps/web|apps/cli|prisma)/|node_modules/(@prisma|prisma)/" },
    },
    {
      name: "shared-only-zod",
      comment: "packages/shared is the protocol and the pure domain: zod and node built-ins only, no app.",
      severity: "error",
      from: { path: "(^|/)packages/shared/" },
      to: { path: "(^|/)apps/|node_modules/", pathNot: "node_modules/zod/" },
    },
    {
      name: "cli-types-only-from-central",
      comment:
        "The CLI talks to the central over HTTP: it may import the API's types, never server code at run time, and never the agent.",
      severity: "error",
      from: { path: "(^|/)apps/cli/", pathNot: TEST_CODE },
      to: { path: "(^|/)apps/(web|agent)/", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "dashboard-types-only-from-server",
      comment: "Pages and browser code reach the server through tRPC: only `import type` from src/server.",
      severity: "error",
      from: { path: "(^|/)apps/web/src/(app|client)/" },
      to: { path: SERVER, dependencyTypesNot: ["type-only"] },
    },
    {
      name: "central-not-agent",
      comment: "The central and the agent share only @fleet/shared.",
      severity: "error",
      from: { path: "(^|/)apps/web/", pathNot: TEST_CODE },
      to: { path: "(^|/)apps/agent/" },
    },
    {
      name: "services-below-wiring",
      comment:
        "Services never import the gateway, routers or the wiring: what they need from above is an interface declared on their side (AgentOperations, DesiredStatePusher) and handed in.",
      severity: "error",
      from: { path: `${SERVER}services/`, pathNot: TEST_CODE },
      to: { path: `${SERVER}(gateway|routers)/|${WIRING}` },
    },
    {
      name: "gateway-beside-services",
      comment:
        "The gateway implements the services' interfaces and uses events, db and tokens; it imports no service, router or wiring.",
      severity: "error",
      from: { path: `${SERVER}gateway/`, pathNot: TEST_CODE },
      to: { path: `${SERVER}(services|routers)/|${WIRING}` },
    },
    {
      name: "low-rooms-stay-low",
      comment:
        "events/ and db/ sit under services and the gateway: they import neither, nor anything above them.",
      severity: "error",
      from: { path: `${SERVER}(events|db)/`, pathNot: TEST_CODE },
      to: { path: `${SERVER}(services|gateway|routers)/|${WIRING}` },
    },
    {
      name: "routers-call-services",
      comment: "Procedures are thin: they call services, never the gateway directly.",
      severity: "error",
      from: { path: `${SERVER}routers/`, pathNot: TEST_CODE },
      to: { path: `${SERVER}gateway/` },
    },
    {
      name: "routers-no-queries",
      comment:
        "Procedures run no Prisma queries of their own: the Prisma client is for types only in routers.",
      severity: "error",
      from: { path: `${SERVER}routers/`, pathNot: TEST_CODE },
      to: { path: `${SERVER}db/`, dependencyTypesNot: ["type-only"] },
    },
    {
      name: "no-circular",
      comment: "Modules that import each other cannot be understood (or moved) one at a time.",
      severity: "error",
      from: { pathNot: TEST_CODE },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(generated|\\.next|dist)/|(^|/)test/room-rules/fixtures/" },
    tsPreCompilationDeps: true,
    // The dashboard's `@/` alias (apps/web/tsconfig.json), from the repository root.
    tsConfig: { fileName: "tsconfig.dependency-cruiser.json" },
    enhancedResolveOptions: {
      // Workspaces export their sources as "./*": "./src/*.ts".
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".tsx", ".js", ".mjs", ".cjs", ".json"],
    },
  },
};
