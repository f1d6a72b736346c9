// The messages between the ledger (main thread) and its writer thread (writer-thread.ts).
import type { RefusalRow } from "./refusals.js";
import type { UsageInsertRow } from "./usage-columns.js";

/** Sent to the worker. */
export type WriterRequest =
  | {
      type: "batch";
      seq: number;
      rows: UsageInsertRow[];
      /** Refused requests (ledger/refusals.ts), inserted in the same transaction, duplicates ignored. */
      refusals: RefusalRow[];
      /** When set, refusals older than this are deleted in the same transaction. */
      pruneRefusalsBefore?: number;
    }
  | { type: "probe"; seq: number; now: number }
  | { type: "close"; seq: number };

/** A record the batch could not take (constraint failure); the rest of the batch committed. */
export interface RowRejection {
  index: number;
  sqliteCode: string;
  message: string;
}

export interface WriterFailure {
  message: string;
  sqliteCode: string | undefined;
  /** The ledger file was deleted or replaced under the broker. */
  fileGone: boolean;
}

/** Sent back by the worker. */
export type WriterReply =
  | { type: "ready" }
  | { type: "open-failed"; error: WriterFailure }
  | { type: "done"; seq: number; ok: true; rejected: RowRejection[]; commitMs: number }
  | { type: "done"; seq: number; ok: false; error: WriterFailure; commitMs: number };

export interface WriterWorkerData {
  path: string;
  dev: number;
  ino: number;
  synchronous: "NORMAL" | "FULL";
  busyTimeoutMs: number;
  walAutocheckpointPages: number;
  cacheSizeMb: number;
}
