// Child process for the SIGKILL durability test (and usable by hand):
//   node --import tsx broker/src/ledger/testing/durability-child.ts <dataDir> <prefix> <workers> <perWorker> [NORMAL|FULL]
// Opens the ledger, prints "ready", then runs <workers> concurrent loops that each append a record,
// await it, and print its id: a line on stdout means that append was acknowledged as durable.
// (stdout to a pipe is synchronous on Linux, so no acknowledged id is held back in a buffer.)
import { openSqliteLedger } from "../sqlite-ledger.js";
import { usageRecord } from "./records.js";

const [dataDir, prefix = "r", workersArg = "16", perWorkerArg = "1000000", synchronous = "FULL"] = process.argv.slice(2);
if (dataDir === undefined) throw new Error("usage: durability-child.ts <dataDir> <prefix> <workers> <perWorker>");
if (synchronous !== "NORMAL" && synchronous !== "FULL") throw new Error(`synchronous must be NORMAL or FULL, not ${synchronous}`);
const ledger = openSqliteLedger(dataDir, { synchronous });
process.stdout.write("ready\n");

async function worker(w: number): Promise<void> {
  for (let i = 0; i < Number(perWorkerArg); i++) {
    const id = `${prefix}-${w}-${i}`;
    await ledger.append(usageRecord({ id, costPicoUsd: 1000 + i }));
    process.stdout.write(`${id}\n`);
  }
}

await Promise.all(Array.from({ length: Number(workersArg) }, (_, w) => worker(w)));
await ledger.close();
process.stdout.write("done\n");
