// Folds image.watchPull's stream (one message per engine status line, per
// host) into one row per host: the latest words, how far the download is,
// and how it ended.
import type { RouterOutputs } from "../api-types";

/** One message of the stream, as the server sends it (the subscription yields it as `data` of a tracked message). */
export type TPullMessage =
  RouterOutputs["image"]["watchPull"] extends AsyncIterable<{ data: infer TMessage }> ? TMessage : never;

export interface THostPull {
  hostId: string;
  hostName: string;
  /** The engine's latest words, with the layer they were about. */
  status: string;
  layer: string | null;
  /** Per layer: bytes downloaded of bytes to download, as last reported. */
  layers: Record<string, { current: number; total: number }>;
  outcome: "pulling" | "pulled" | "failed" | "cancelled";
  digest: string | null;
  error: string | null;
}

export type TPullState = Record<string, THostPull>;

// Statuses after which a layer counts as fully downloaded.
const LAYER_DONE = /^(download complete|pull complete|already exists|verifying checksum)$/i;

export function applyPullMessage(state: TPullState, message: TPullMessage): TPullState {
  const previous = state[message.hostId];
  const layers = { ...(previous?.layers ?? {}) };
  if (message.layer) {
    const known = layers[message.layer];
    // Only download figures count: extraction restarts at 0 and would make the bar run backwards.
    if (/^downloading$/i.test(message.status) && message.total !== undefined && message.total > 0) {
      layers[message.layer] = {
        current: Math.min(message.current ?? 0, message.total),
        total: message.total,
      };
    } else if (known && LAYER_DONE.test(message.status)) {
      layers[message.layer] = { current: known.total, total: known.total };
    }
  }
  const outcome = message.done
    ? message.error || message.status === "failed"
      ? "failed"
      : "pulled"
    : "pulling";
  return {
    ...state,
    [message.hostId]: {
      hostId: message.hostId,
      hostName: message.hostName,
      status: message.status,
      layer: message.layer ?? null,
      layers,
      outcome,
      digest: message.digest ?? previous?.digest ?? null,
      error: message.error ?? null,
    },
  };
}

/** 0..1 over the layers whose size is known; null while none is (or when nothing was downloaded). */
export function pullRatio(pull: THostPull): number | null {
  if (pull.outcome === "pulled") return 1;
  let current = 0;
  let total = 0;
  for (const layer of Object.values(pull.layers)) {
    current += layer.current;
    total += layer.total;
  }
  return total > 0 ? current / total : null;
}

/** The rows image.pull's answer names, before any progress has come. */
export function startPulls(hosts: { hostId: string; hostName: string }[]): TPullState {
  const state: TPullState = {};
  for (const host of hosts) {
    state[host.hostId] = {
      ...host,
      status: "requested",
      layer: null,
      layers: {},
      outcome: "pulling",
      digest: null,
      error: null,
    };
  }
  return state;
}

/** The person cancelled the pull: hosts still pulling end as cancelled (image.cancelJob stopped them). */
export function cancelPulls(state: TPullState): TPullState {
  const next: TPullState = {};
  for (const [hostId, pull] of Object.entries(state)) {
    next[hostId] = pull.outcome === "pulling" ? { ...pull, outcome: "cancelled" } : pull;
  }
  return next;
}
