// Output types of the API, for components that take API data as props.
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../server/routers/_app";

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;

export type THostView = RouterOutputs["host"]["list"]["items"][number];
export type TContainerView = RouterOutputs["container"]["list"]["items"][number];
export type TEventView = RouterOutputs["event"]["list"]["items"][number];
