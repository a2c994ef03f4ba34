/**
 * The engine's own record of when it finished creating and starting each container
 * (`/events`, `timeNano`), for fleet and bare containers alike. These split a start into
 * "before the engine was asked", "inside the engine" and "after the engine was done",
 * which is where the fleet's extra time shows. Docker and Podman's compat API both send
 * newline-delimited JSON; an engine that sends no `timeNano` leaves the split empty.
 */
import type Dockerode from "dockerode";

export interface TEngineTimes {
  /** Wall-clock ms when the engine logged `create` / `start`. */
  create?: number;
  start?: number;
}

interface RawEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string };
  timeNano?: number;
}

export class EngineEventLog {
  private readonly times = new Map<string, TEngineTimes>();
  private buffered = "";

  private constructor(private readonly stream: NodeJS.ReadableStream & { destroy?: () => void }) {
    stream.on("data", (chunk: Buffer | string) => this.consume(chunk.toString()));
    // A broken stream only loses the split, never the measurement.
    stream.on("error", () => undefined);
  }

  static async start(docker: Dockerode): Promise<EngineEventLog> {
    const stream = await docker.getEvents({
      filters: JSON.stringify({ type: ["container"], event: ["create", "start"] }),
    });
    return new EngineEventLog(stream);
  }

  of(engineId: string): TEngineTimes {
    return this.times.get(engineId) ?? {};
  }

  close(): void {
    this.stream.destroy?.();
  }

  private consume(text: string): void {
    this.buffered += text;
    const lines = this.buffered.split("\n");
    this.buffered = lines.pop() ?? "";
    for (const line of lines) {
      if (line.trim() === "") continue;
      let event: RawEvent;
      try {
        event = JSON.parse(line) as RawEvent;
      } catch {
        continue;
      }
      const id = event.Actor?.ID ?? event.id;
      const action = event.Action ?? event.status;
      if (!id || typeof event.timeNano !== "number" || (action !== "create" && action !== "start")) continue;
      const entry = this.times.get(id) ?? {};
      // The first one counts: a later `start` of the same container would be a restart.
      entry[action] ??= event.timeNano / 1e6;
      this.times.set(id, entry);
    }
  }
}
