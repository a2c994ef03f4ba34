"use client";
// image.list is what the hosts last reported; images pulled by a container
// start or built since are missing until a host is asked again. Operators'
// visits ask (a viewer may not, and sees the stored list).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { useCan } from "../session";
import { useTRPC } from "../trpc";

/** image.refresh for one host or all, run once when the page opens; the mutation also backs a Refresh button. */
export function useRefreshImages(hostId?: string) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const canOperate = useCan("operator");
  const refresh = useMutation(
    trpc.image.refresh.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.image.pathKey() }),
    }),
  );
  const { mutate } = refresh;
  useEffect(() => {
    if (canOperate) mutate(hostId ? { hostId } : {});
  }, [canOperate, hostId, mutate]);
  return refresh;
}
