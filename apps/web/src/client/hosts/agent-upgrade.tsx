"use client";
// Each agent's build beside the one the central serves, and the upgrade
// buttons (administrators only: an upgrade runs the central's binary as the
// agent on the host). The roll itself runs on the central; its steps arrive
// as host.agent-upgrad* events on the Events page and the host's own list.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { THostView } from "../api-types";
import { useCan } from "../session";
import { useTRPC } from "../trpc";
import { ErrorNote } from "../ui/error-note";

function useAgentBuild() {
  const trpc = useTRPC();
  return useQuery(trpc.host.agentBuild.queryOptions(undefined, { refetchInterval: 5000 }));
}

function isAgentOutdated(host: Pick<THostView, "agentVersion">, served: string | null | undefined) {
  return Boolean(served) && host.agentVersion !== null && host.agentVersion !== served;
}

/** The agent's build, marked when it differs from the central's. */
export function AgentVersion({ host }: { host: Pick<THostView, "agentVersion"> }) {
  const build = useAgentBuild();
  const served = build.data?.served ?? null;
  return (
    <span className="row">
      <span className="mono">{host.agentVersion ?? "—"}</span>
      {isAgentOutdated(host, served) ? (
        <span
          className="badge badge-warn"
          data-testid="agent-outdated"
          title={`the central serves ${served}`}
        >
          outdated · central {served}
        </span>
      ) : null}
    </span>
  );
}

function useUpgradeMutation() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const mutation = useMutation(
    trpc.host.upgradeAgent.mutationOptions({
      onMutate: () => setError(null),
      onError: setError,
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.host.pathKey() }),
    }),
  );
  return { mutation, error };
}

/** On the host page: shown to administrators when this host's agent is outdated and online. */
export function UpgradeAgentButton({ host }: { host: THostView }) {
  const isAdmin = useCan("admin");
  const build = useAgentBuild();
  const { mutation, error } = useUpgradeMutation();
  if (!isAdmin || host.removedAt || host.status !== "online" || !isAgentOutdated(host, build.data?.served))
    return null;
  return (
    <>
      <button
        type="button"
        disabled={mutation.isPending || build.data?.rolling}
        title={`Replace the agent with ${build.data?.served}; containers keep running`}
        onClick={() => mutation.mutate({ hostId: host.id })}
      >
        {build.data?.rolling ? "Upgrading…" : "Upgrade agent"}
      </button>
      <ErrorNote error={error} />
    </>
  );
}

/** On the hosts page: every online outdated agent, one at a time. */
export function UpgradeOutdatedButton({ hosts }: { hosts: readonly THostView[] }) {
  const isAdmin = useCan("admin");
  const build = useAgentBuild();
  const { mutation, error } = useUpgradeMutation();
  const outdated = hosts.filter(
    (host) => !host.removedAt && host.status === "online" && isAgentOutdated(host, build.data?.served),
  ).length;
  if (!isAdmin || (outdated === 0 && !build.data?.rolling)) return null;
  return (
    <>
      <button
        type="button"
        disabled={mutation.isPending || build.data?.rolling}
        title={`Upgrade each outdated agent to ${build.data?.served}, one host at a time`}
        onClick={() => mutation.mutate({ outdated: true })}
      >
        {build.data?.rolling ? "Upgrading agents…" : `Upgrade outdated agents (${outdated})`}
      </button>
      <ErrorNote error={error} />
    </>
  );
}
