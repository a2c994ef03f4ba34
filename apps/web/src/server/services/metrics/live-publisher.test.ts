import { makeContainerSample } from "@fleet/shared/protocol/test-factories";
import { describe, expect, it } from "vitest";
import type { LiveMetrics } from "../../events/event-bus";
import { LatestSamples } from "./latest-samples";
import { LivePublisher } from "./live-publisher";

describe("LivePublisher", () => {
  it("publishes at most once per interval, with everything that changed in between", async () => {
    const latest = new LatestSamples();
    const published: LiveMetrics[] = [];
    const publisher = new LivePublisher({
      latest,
      intervalMs: 50,
      now: () => 0,
      publish: (message) => published.push(message),
    });
    try {
      latest.recordContainer("h", makeContainerSample({ containerId: "c1", ts: 1 }));
      publisher.notify();
      await expect.poll(() => published.length).toBe(1);
      for (let ts = 2; ts < 6; ts++) {
        latest.recordContainer("h", makeContainerSample({ containerId: `c${ts}`, ts }));
        publisher.notify();
      }
      await expect.poll(() => published.length).toBe(2);
      expect(published[1]?.containers).toHaveLength(4);
      expect(published.map((message) => message.seq)).toEqual([1, 2]);
      expect(publisher.lastSeq).toBe(2);
    } finally {
      publisher.stop();
    }
  });
});
