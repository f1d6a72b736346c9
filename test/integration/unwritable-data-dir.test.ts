// The data dir becoming unwritable under a running broker: it refuses new chat requests with a clear
// 503 ledger_unavailable in OpenAI's shape (never serves a request it can't account for), and serves
// again on its own once the dir is writable.
//
// Tests run as root in CI, where chmod blocks nothing (and, for anyone, nothing already open); the
// immutable flag (chattr +i) blocks writes even for root and even through files SQLite holds open,
// so it is what makes the dir unwritable here. Without it (not root, or a file system without the
// flag) the test fails loudly rather than skip.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, TEST_ADMIN_TOKEN, type Harness } from "../support/harness.js";

let h: Harness;
let frozen = false;

/**
 * Every file and directory of the data dir, except SQLite's shared-memory index (ledger.sqlite-shm):
 * it is mmapped, and a write fault on an immutable mapping is a SIGBUS, not the failed write() a
 * full or read-only disk gives on pages SQLite has already allocated.
 */
function dataDirEntries(dir: string): string[] {
  return [dir, ...readdirSync(dir, { recursive: true, encoding: "utf8" }).map((name) => join(dir, name))].filter((path) => !path.endsWith("-shm"));
}

function setImmutable(on: boolean): void {
  try {
    execFileSync("chattr", [on ? "+i" : "-i", ...dataDirEntries(h.broker.dataDir)], { stdio: "pipe" });
  } catch (error) {
    throw new Error(`cannot ${on ? "set" : "clear"} the immutable flag on the data dir (run the tests as root on ext4/xfs): ${String(error)}`);
  }
  frozen = on;
}

beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => {
  if (frozen) setImmutable(false);
  await h?.close();
});

const chat = (stream: boolean) => ({ method: "POST", body: JSON.stringify({ model: "claude-sonnet-4", stream, messages: [{ role: "user", content: "hi" }] }) });

async function refusal(response: Response): Promise<{ message: string; type: string; code: string; param: unknown }> {
  expect(response.status).toBe(503);
  const body = (await response.json()) as { error: { message: string; type: string; code: string; param: unknown } };
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(body.error.code).toBe("ledger_unavailable");
  expect(body.error.message).toMatch(/data dir/);
  return body.error;
}

describe("the data dir becoming unwritable", () => {
  it("refuses chat requests with 503 ledger_unavailable while it is, serves none unaccounted, and recovers", async () => {
    const served: string[] = [];
    const ok = await h.call("/v1/chat/completions", chat(false));
    expect(ok.status).toBe(200);
    served.push(ok.headers.get("x-request-id") ?? "");

    setImmutable(true);
    // The request in progress when it happens: Bedrock answered, but the answer is withheld because
    // its usage could not be recorded.
    const callsBefore = h.emulator.calls.length;
    const first = await h.call("/v1/chat/completions", chat(false));
    await refusal(first);
    expect(h.emulator.calls.length).toBe(callsBefore + 1);

    // From then on new requests are refused before Bedrock is called, streamed or not.
    for (const stream of [false, true, false]) {
      const response = await h.call("/v1/chat/completions", chat(stream));
      const error = await refusal(response);
      expect(error.message).toMatch(/cannot record usage right now/);
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    expect(h.emulator.calls.length).toBe(callsBefore + 1);
    // The broker itself is up: health and the read-only API answer.
    expect((await fetch(`${h.broker.url}/healthz`)).status).toBe(200);
    expect((await h.call("/v1/me")).status).toBe(200);

    setImmutable(false);
    // It probes the ledger about every second and serves again once a write succeeds.
    let recovered: Response | undefined;
    await expect
      .poll(
        async () => {
          recovered = await h.call("/v1/chat/completions", chat(true));
          if (recovered.status !== 200) await recovered.body?.cancel();
          return recovered.status;
        },
        { timeout: 10_000, interval: 250 },
      )
      .toBe(200);
    expect((await recovered?.text())?.trimEnd().endsWith("data: [DONE]")).toBe(true);
    served.push(recovered?.headers.get("x-request-id") ?? "");

    // Every answer served is in the ledger; the withheld one is not.
    const rows = (await (await h.call("/admin/requests?refused=exclude&limit=100", { token: TEST_ADMIN_TOKEN })).json()) as { data: Array<{ id: string; status: string }> };
    const recorded = new Set(rows.data.filter((row) => row.status === "ok").map((row) => row.id));
    expect(served.filter((id) => !recorded.has(id))).toEqual([]);
    expect(recorded.has(first.headers.get("x-request-id") ?? "")).toBe(false);
  });

  it("ends a stream that is running when it happens with an error event, not [DONE]", async () => {
    h.emulator.setHandler(() => ({ content: [{ text: "one two three four five six" }], chunks: 6, chunkDelayMs: 150 }));
    try {
      const response = await h.call("/v1/chat/completions", chat(true));
      expect(response.status).toBe(200);
      const reader = response.body?.getReader();
      const first = await reader?.read();
      expect(first?.done).toBe(false);
      setImmutable(true);
      let rest = "";
      for (;;) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) break;
        rest += Buffer.from(chunk.value).toString("utf8");
      }
      expect(rest).toMatch(/"code":"ledger_unavailable"/);
      expect(rest).not.toMatch(/data: \[DONE\]/);
    } finally {
      if (frozen) setImmutable(false);
      h.emulator.setHandler(undefined);
    }
  });
});
