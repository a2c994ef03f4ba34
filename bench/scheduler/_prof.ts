import { ClusterView } from "@fleet/shared/scheduler/cluster-view";
import { schedule } from "@fleet/shared/scheduler/schedule";
import { makeMixedCluster, makeMixedRequest, seededRandom } from "./workload";
const random = seededRandom(7);
const view = new ClusterView(makeMixedCluster(5000, random));
const reqs = Array.from({length: 500}, () => makeMixedRequest(random));
const plain = reqs.map(r => ({...r, constraints: [], ports: []}));
const constrained = reqs.map(r => ({...r, constraints: [{key:"zone", op:"=" as const, values:["a"]}], ports: []}));
for (const [name, set] of [["plain", plain], ["constrained", constrained], ["mixed", reqs]] as const) {
  for (const r of set) schedule(view, r);
  const c = process.cpuUsage();
  for (let k=0;k<4;k++) for (const r of set) schedule(view, r);
  const u = process.cpuUsage(c);
  console.log(name, "cpu us/schedule", ((u.user+u.system)/(4*set.length)).toFixed(1));
}
