// What the benches' helper threads and processes report, waited for by kind, and
// how a thread runs a TypeScript entry.
import { Worker } from "node:worker_threads";

/** Reports kept in arrival order until someone asks for their kind; a failure fails every wait. */
export function reportQueue<R extends { kind: string }>() {
  const reports: R[] = [];
  const waiters: (() => void)[] = [];
  let failure: Error | null = null;
  const wake = () => {
    for (const waiter of waiters.splice(0)) waiter();
  };
  return {
    push(report: R) {
      reports.push(report);
      wake();
    },
    fail(error: Error) {
      failure ??= error;
      wake();
    },
    async next<K extends R["kind"]>(kind: K): Promise<Extract<R, { kind: K }>> {
      for (;;) {
        if (failure) throw failure;
        const index = reports.findIndex((report) => report.kind === kind);
        if (index >= 0) return reports.splice(index, 1)[0] as never;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

export interface ReportingWorker<R extends { kind: string }, C> {
  worker: Worker;
  next<K extends R["kind"]>(kind: K): Promise<Extract<R, { kind: K }>>;
  command(command: C): void;
}

/**
 * A worker thread running the TypeScript module `entry`; its `failed` report (or an
 * uncaught error) fails every wait for a report.
 */
export function startReportingWorker<R extends { kind: string } | { kind: "failed"; error: string }, C>(
  entry: URL,
  workerData: unknown,
): ReportingWorker<Exclude<R, { kind: "failed" }>, C> {
  // Node 20 starts a worker's entry module before `--import` hooks are in place, so the
  // worker registers tsx itself and then imports the TypeScript entry.
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const worker = new Worker(
    `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`,
    { eval: true, workerData },
  );
  const queue = reportQueue<Exclude<R, { kind: "failed" }>>();
  worker.on("message", (report: R) => {
    if (report.kind === "failed" && "error" in report)
      queue.fail(new Error(`worker ${entry.pathname} failed: ${report.error}`));
    else queue.push(report as Exclude<R, { kind: "failed" }>);
  });
  worker.on("error", (error) => queue.fail(error));
  return { worker, next: (kind) => queue.next(kind), command: (command) => worker.postMessage(command) };
}
