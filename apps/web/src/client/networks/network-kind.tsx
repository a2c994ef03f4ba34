"use client";
// User-defined networks in the dashboard: containers on one reach each other
// by name on that host.
import { useState } from "react";
import type { THostObjectUiKind } from "../host-objects/host-object-kind";
import styles from "../host-objects/host-objects.module.css";

export const networkUiKind: THostObjectUiKind<"network"> = {
  noun: "network",
  plural: "networks",
  title: "Networks",
  subtitle: "User-defined networks on each host: containers on one reach each other by name.",
  emptyHint:
    "a container with a network named in the run form's Networks field: the agent creates it on the host the container lands on.",
  headers: (
    <>
      <th scope="col">Driver</th>
      <th scope="col">Internal</th>
      <th scope="col">Subnet</th>
    </>
  ),
  cells: (network) => (
    <>
      <td>{network.driver}</td>
      <td>{network.internal ? "yes" : <span className="muted">no</span>}</td>
      <td className="mono nowrap">
        {network.subnet ?? <span className="muted">—</span>}
        {network.gateway ? <div className={styles.sub}>gateway {network.gateway}</div> : null}
      </td>
    </>
  ),
  refresh: { label: "Refresh", title: "Ask the hosts for their networks" },
  createPlaceholder: "e.g. backend",
  useCreateFields: function useInternalField() {
    const [internal, setInternal] = useState(false);
    return {
      input: { internal },
      fields: (
        <label
          className={styles.inlineCheck}
          title="No route out of the host: containers reach only each other"
        >
          <input type="checkbox" checked={internal} onChange={(event) => setInternal(event.target.checked)} />
          Internal
        </label>
      ),
    };
  },
  createdDetail: (network) => (network.subnet ? ` (${network.subnet})` : ""),
};
