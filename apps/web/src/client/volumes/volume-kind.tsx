"use client";
// Named volumes in the dashboard: data that outlives the containers mounting it.
import { formatBytes } from "../format";
import type { THostObjectUiKind } from "../host-objects/host-object-kind";

export const volumeUiKind: THostObjectUiKind<"volume"> = {
  noun: "volume",
  plural: "volumes",
  title: "Volumes",
  subtitle: "Named volumes on each host: data that outlives the containers mounting it.",
  emptyHint: (
    <>
      a container with <code className="mono">-v name:/path</code>: the volume is created on the host it lands
      on and keeps its data when the container is replaced.
    </>
  ),
  removeWarning: "Its data is deleted.",
  headers: (
    <>
      <th scope="col">Driver</th>
      <th scope="col" className="num">
        Size
      </th>
    </>
  ),
  cells: (volume) => (
    <>
      <td>{volume.driver}</td>
      <td
        className="num nowrap"
        title={volume.sizeBytes === null ? "the engine has not said; Refresh sizes asks" : undefined}
      >
        {formatBytes(volume.sizeBytes)}
      </td>
    </>
  ),
  refresh: { label: "Refresh sizes", title: "Ask the hosts for their volumes and how much each holds" },
  createPlaceholder: "e.g. pgdata",
  useCreateFields: () => ({ fields: null, input: {} }),
};
