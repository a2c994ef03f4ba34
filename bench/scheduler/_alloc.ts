import { PerformanceObserver } from "node:perf_hooks";
import { ClusterView } from "@fleet/shared/scheduler/cluster-view";
import { schedule } from "@fleet/shared/scheduler/schedule";
import { makeIdenticalCluster, makeMixedCluster, makeMixedRequest, seededRandom } from "./workload";
let gcs = 0;
new PerformanceObserver((l) => { gcs += l.getEntries().length; }).observe({ entryTypes: ["gc"] });
const random = seededRandom(7);
const reqs = Array.from({length: 500}, () => makeMixedRequest(random));
const plain = reqs.map(r => ({...r, constraints: [], ports: []}));
async function run(name: string, view: ClusterView, set: typeof reqs) {
  for (let k=0;k<3;k++) for (const r of set) schedule(view, r);
  await new Promise(r => setTimeout(r, 50));
  gcs = 0;
  const c = process.cpuUsage();
  for (let k=0;k<4;k++) for (const r of set) schedule(view, r);
  const u = process.cpuUsage(c);
  await new Promise(r => setTimeout(r, 50));
  console.log(name, "cpu us", ((u.user+u.system)/(4*set.length)).toFixed(1), "gcs", gcs);
}
const empty = new ClusterView(makeIdenticalCluster(5000));
await run("identical-empty plain", empty, plain);
const mixed = new ClusterView(makeMixedCluster(5000, random));
for (let i = 0; i < 40000; i++) { const r = reqs[i % reqs.length]!; const h = mixed.hosts()[Math.floor(random()*5000)]!; if (schedule([h], r).ok) mixed.place(h.id, r); }
await run("mixed-half plain", mixed, plain);
await run("mixed-half mixed", mixed, reqs);
let rej = 0; for (const r of reqs) { const res = schedule(mixed, r); rej += (res as any).rejected.length; } console.log("avg rejected", rej / reqs.length);
