/**
 * The root router: one key per noun, each a router from `routers/<noun>/`.
 * To add a noun, build `<noun>-router.ts` in its folder and add one line here.
 */
import { router } from "../trpc";
import { apiTokenRouter } from "./api-token/api-token-router";
import { authRouter } from "./auth/auth-router";
import { containerRouter } from "./container/container-router";
import { deploymentRouter } from "./deployment/deployment-router";
import { eventRouter } from "./event/event-router";
import { health } from "./health/health";
import { hostRouter } from "./host/host-router";
import { imageRouter } from "./image/image-router";
import { joinTokenRouter } from "./join-token/join-token-router";
import { metricsRouter } from "./metrics/metrics-router";
import { networkRouter } from "./network/network-router";
import { settingsRouter } from "./settings/settings-router";
import { userRouter } from "./user/user-router";
import { volumeRouter } from "./volume/volume-router";

export const appRouter = router({
  health,
  auth: authRouter,
  user: userRouter,
  apiToken: apiTokenRouter,
  joinToken: joinTokenRouter,
  host: hostRouter,
  container: containerRouter,
  deployment: deploymentRouter,
  metrics: metricsRouter,
  image: imageRouter,
  event: eventRouter,
  volume: volumeRouter,
  network: networkRouter,
  settings: settingsRouter,
});

export type AppRouter = typeof appRouter;
