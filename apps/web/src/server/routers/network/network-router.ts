// network.* — user-defined networks per host (see ../host-object/host-object-router.ts).
import { ZNetworkName } from "@fleet/shared/domain/container-spec";
import { z } from "zod";
import { networkKind } from "../../services/network/network-kind";
import { ZId } from "../common-schemas";
import { hostObjectRouter } from "../host-object/host-object-router";
import { ZHostObjectUser } from "../host-object/host-object-schemas";

export const ZNetwork = z.object({
  id: z.string(),
  hostId: z.string(),
  hostName: z.string(),
  name: z.string(),
  driver: z.string(),
  /** No route out of the host. */
  internal: z.boolean(),
  subnet: z.string().nullable(),
  gateway: z.string().nullable(),
  createdAt: z.date(),
  /** When the host's engine last listed it; null while only the central knows it. */
  seenAt: z.date().nullable(),
  usedBy: z.array(ZHostObjectUser),
});

export const networkRouter = hostObjectRouter({
  kind: networkKind,
  ZView: ZNetwork,
  ZCreateInput: z.object({
    hostId: ZId,
    name: ZNetworkName,
    /** No route out of the host: containers on it reach only each other. */
    internal: z.boolean().default(false),
  }),
  createOptions: ({ internal }) => ({ internal }),
});
