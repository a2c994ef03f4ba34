// The browser's tRPC client: queries and mutations over batched HTTP,
// subscriptions (live metrics, logs, events, pull progress) over SSE. The
// session cookie rides along on both because everything is same-origin.
import { MAX_API_BATCH_SIZE, UNBATCHED_PROCEDURE_PREFIX } from "@fleet/shared/api-limits";
import { createTRPCClient, httpBatchLink, httpLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import superjson from "superjson";
import type { AppRouter } from "../server/routers/_app";

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export const TRPC_URL = "/api/trpc";

export function createBrowserTrpcClient() {
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({ url: TRPC_URL, transformer: superjson }),
        false: splitLink({
          // The central refuses sign-in calls inside a batch.
          condition: (op) => op.path.startsWith(UNBATCHED_PROCEDURE_PREFIX),
          true: httpLink({ url: TRPC_URL, transformer: superjson }),
          // Not the streaming batch link: auth.signIn sets a cookie, and a
          // streamed response has sent its headers before the procedure runs.
          false: httpBatchLink({ url: TRPC_URL, transformer: superjson, maxItems: MAX_API_BATCH_SIZE }),
        }),
      }),
    ],
  });
}

export type BrowserTrpcClient = ReturnType<typeof createBrowserTrpcClient>;
