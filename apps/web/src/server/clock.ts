// The central's clock is the shared one (@fleet/shared/clock); this path stays for its importers.
export { type Clock, systemClock, type TimerHandle } from "@fleet/shared/clock";
