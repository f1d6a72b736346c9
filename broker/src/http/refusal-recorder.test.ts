import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:http";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "../errors.js";
import type { RecentQuery, RefusalLog, RefusalRecord } from "../ledger/types.js";
import { errorHandler } from "./error-response.js";
import { recordRefusals } from "./refusal-recorder.js";
import { requestContext } from "./request-context.js";

class MemoryRefusals implements RefusalLog {
  readonly records: RefusalRecord[] = [];
  recordRefusal(refusal: RefusalRecord): void {
    this.records.push(refusal);
  }
  refusals(_query: RecentQuery): RefusalRecord[] {
    return this.records;
  }
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A real HTTP server with the recorder in front of routes that refuse, fail after admission, or serve. */
async function serve(log: RefusalLog, options: Parameters<typeof recordRefusals>[1]): Promise<string> {
  const app = express();
  app.use(requestContext);
  app.use(recordRefusals(log, options));
  app.post("/refused", () => {
    throw new ApiError({ status: 429, type: "rate_limit_exceeded", code: "rate_limit_exceeded", message: "user u: 1 request per minute; retry in 60 s", limit: { name: "rpm", scope: "user u" } });
  });
  app.post("/malformed", () => {
    throw new ApiError({ status: 400, type: "invalid_request_error", code: "invalid_json", message: 'Unexpected token in "the secret prompt"' });
  });
  app.post("/admitted", (_req, res) => {
    res.locals.admitted = true;
    throw new ApiError({ status: 502, type: "upstream_error", code: "upstream_error", message: "Bedrock failed" });
  });
  app.post("/served", (_req, res) => void res.json({ ok: true }));
  app.use(errorHandler(() => undefined));
  const server = createServer(app).listen(0, "127.0.0.1");
  servers.push(server);
  await new Promise((resolve) => server.once("listening", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function settle(log: MemoryRefusals, count: number): Promise<void> {
  // "finish" fires as the response's last byte is handed to the socket: a moment after the client has it.
  for (let i = 0; i < 100 && log.records.length < count; i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe("recordRefusals", () => {
  it("records what was refused before admission, with the limit, and keeps no 400 message", async () => {
    const log = new MemoryRefusals();
    const url = await serve(log, {});
    for (const path of ["/refused", "/malformed", "/admitted", "/served"]) await fetch(`${url}${path}`, { method: "POST" });
    await settle(log, 2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(log.records.map((r) => [r.httpStatus, r.code, r.reason, r.limitName, r.limitScope])).toEqual([
      [429, "rate_limit_exceeded", "user u: 1 request per minute; retry in 60 s", "rpm", "user u"],
      [400, "invalid_json", null, null, null],
    ]);
    expect(log.records[0]!.client).toMatch(/127\.0\.0\.1/);
  });

  it("records at most its burst, then its rate, and counts the rest as unrecorded", async () => {
    const log = new MemoryRefusals();
    let now = 1_000_000;
    let unrecorded = 0;
    const url = await serve(log, { perSecond: 10, burst: 20, now: () => now, onUnrecorded: () => unrecorded++ });
    const hammer = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) await fetch(`${url}/refused`, { method: "POST" });
    };
    await hammer(30);
    await settle(log, 20);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect([log.records.length, unrecorded]).toEqual([20, 10]);
    now += 500; // half a second at 10/s: five more
    await hammer(8);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect([log.records.length, unrecorded]).toEqual([25, 13]);
  });
});
