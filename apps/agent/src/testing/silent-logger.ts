import { pino } from "pino";

/** A real pino logger that writes nothing, for tests. */
export const silentLogger = pino({ level: "silent" });
