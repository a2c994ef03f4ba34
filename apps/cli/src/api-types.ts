// The API's objects as the CLI receives them (dates already revived by
// superjson), named once from the router's type.
import type { AppRouter } from "@fleet/web/server/routers/_app";
import type { inferRouterOutputs } from "@trpc/server";

type Outputs = inferRouterOutputs<AppRouter>;

export type TContainer = Outputs["container"]["list"]["items"][number];
export type THost = Outputs["host"]["list"]["items"][number];
export type THostImage = Outputs["image"]["list"]["items"][number];
export type TPlacement = Outputs["container"]["run"]["placement"];
export type TDeploymentDetail = Outputs["deployment"]["get"];
export type TFleetSummary = Outputs["metrics"]["fleet"]["summary"];
export type TDeployment = Outputs["deployment"]["list"]["items"][number];
export type TVolume = Outputs["volume"]["list"]["items"][number];
export type TNetwork = Outputs["network"]["list"]["items"][number];
export type TPublishedPort = TContainer["published"][number];
