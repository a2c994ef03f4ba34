import { ClusterView } from "@fleet/shared/scheduler/cluster-view";
import { schedule } from "@fleet/shared/scheduler/schedule";
import { makeMixedCluster, makeMixedRequest, seededRandom } from "./workload";
const random = seededRandom(7);
const view = new ClusterView(makeMixedCluster(5000, random));
const reqs = Array.from({length: 500}, () => makeMixedRequest(random));
// half fill
for (let i = 0; i < 40000; i++) { const r = reqs[i % reqs.length]!; const h = view.hosts()[Math.floor(random()*5000)]!; if (schedule([h], r).ok) view.place(h.id, r); }
const plain = reqs.map(r => ({...r, constraints: [], ports: []}));
function floor(take: number) { const hosts = view.hosts(); let n = 0; for (let i = 0; i < hosts.length; i++) { const h = hosts[i]!; if (h.online && !h.draining && h.allocatable.cpuMillis - h.allocated.cpuMillis >= take && h.allocatable.memoryBytes - h.allocated.memoryBytes >= take) n++; } return n; }
for (let k = 0; k < 3; k++) {
{ const c = process.cpuUsage(); let s = 0; for (let k=0;k<2000;k++) s += floor(k); const u = process.cpuUsage(c); console.log("floor loop cpu us/pass", ((u.user+u.system)/2000).toFixed(1), s > 0); }
for (const [name, set] of [["plain", plain], ["mixed", reqs]] as const) {
  const c = process.cpuUsage();
  for (let k=0;k<4;k++) for (const r of set) schedule(view, r);
  const u = process.cpuUsage(c);
  console.log(name, "cpu us/schedule", ((u.user+u.system)/(4*set.length)).toFixed(1));
}
}
