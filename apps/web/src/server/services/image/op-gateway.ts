// The part of the gateway image and log services use: run an operation on a
// host's agent, send it a build context, know whether it is connected.
import type { Gateway } from "../../gateway/gateway";

export type OpGateway = Pick<Gateway, "request" | "upload" | "isConnected">;
