"use client";
// image.list is what the hosts last reported; the central refreshes a host's
// list when it connects and after pulls, builds and removals. Operators can
// still ask the hosts again (an image built or removed by hand on a host):
// this backs the Refresh button. Nothing asks on its own, so a visit costs no
// host a request.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../trpc";

/** image.refresh for one host or all, when an operator asks. */
export function useRefreshImages() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return useMutation(
    trpc.image.refresh.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.image.pathKey() }),
    }),
  );
}
