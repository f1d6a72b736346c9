// Cancellation, graceful shutdown, policy pushes mid-stream and readiness, against the real broker
// process and the emulator.
import { keyHashEntry } from "@tollgate/shared";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { user } from "../support/builders.js";
import { startHarness, TEST_ADMIN_TOKEN, TEST_KEY, TEST_POLICY, type Harness } from "../support/harness.js";

// High enough that the storm is never refused while the broker notices closes; what is checked is
// that every slot comes back.
const CONCURRENT = 50;
const BATCH = 10;
const LIMITED_POLICY = {
  ...TEST_POLICY,
  users: { tester: { team: "eng", keys: [keyHashEntry(TEST_KEY)], limits: { concurrent: CONCURRENT } } },
};
const ask = { model: "claude-sonnet-4", messages: [user("Tell me a long story")] };
const LONG_STREAM = { content: [{ text: "word ".repeat(200) }], chunks: 200, chunkDelayMs: 20 };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

interface LedgerRow {
  id: string;
  status: string;
  httpStatus: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  errorCode: string | null;
  usageEstimated: boolean;
}

async function ledger(harness: Harness): Promise<LedgerRow[]> {
  const response = await harness.call("/admin/requests?refused=exclude&limit=1000", { token: TEST_ADMIN_TOKEN });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: LedgerRow[] }).data;
}

async function concurrent(harness: Harness): Promise<{ used: number; remaining: number } | undefined> {
  const me = (await (await harness.call("/v1/me")).json()) as { limits: Array<{ limit: string; used: number; remaining: number }> };
  return me.limits.find((l) => l.limit === "concurrent");
}

async function concurrentUsed(harness: Harness): Promise<number | undefined> {
  return (await concurrent(harness))?.used;
}

/** Opens a stream, waits for its first content chunk, then cancels it the way Cline's button does. */
async function streamThenCancel(client: OpenAI): Promise<void> {
  const controller = new AbortController();
  const stream = await client.chat.completions.create({ ...ask, stream: true }, { signal: controller.signal });
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta.content) {
      controller.abort();
      break;
    }
  }
}

describe("client cancel", () => {
  it("500 cancelled streams: each Bedrock call is aborted, recorded as cancelled, and no concurrency slot leaks", async () => {
    h = await startHarness({ policy: LIMITED_POLICY });
    const harness = h;
    harness.emulator.setHandler(() => LONG_STREAM);
    const total = 500;
    for (let batch = 0; batch < total / BATCH; batch++) {
      await Promise.all(Array.from({ length: BATCH }, () => streamThenCancel(harness.client)));
    }
    await expect.poll(() => harness.emulator.calls.filter((c) => c.aborted).length, { timeout: 10_000 }).toBe(total);
    expect(harness.emulator.calls.filter((c) => c.finished)).toHaveLength(0);
    await expect.poll(async () => (await ledger(harness)).filter((r) => r.status === "cancelled").length, { timeout: 10_000 }).toBe(total);
    const cancelled = (await ledger(harness)).filter((r) => r.status === "cancelled");
    expect(cancelled.every((r) => r.httpStatus === 499 && r.errorCode === "client_cancelled")).toBe(true);
    // Bedrock never sent its usage event; what was sent and streamed is recorded as an estimate.
    expect(cancelled.every((r) => r.usageEstimated && r.inputTokens > 0 && r.outputTokens > 0 && r.costUsd > 0)).toBe(true);

    // Capacity is whole again: nothing used, and `concurrent` requests at once all succeed.
    expect(await concurrent(harness)).toMatchObject({ used: 0, remaining: CONCURRENT });
    harness.emulator.setHandler(() => ({ content: [{ text: "done" }], firstByteDelayMs: 200 }));
    const answers = await Promise.all(Array.from({ length: CONCURRENT }, () => harness.client.chat.completions.create(ask)));
    expect(answers.every((a) => a.choices[0]?.message.content === "done")).toBe(true);
  }, 120_000);

  it("a non-streamed request cancelled while Bedrock works is aborted upstream and frees its slot", async () => {
    h = await startHarness({ policy: LIMITED_POLICY });
    const harness = h;
    harness.emulator.setHandler(() => ({ content: [{ text: "slow" }], firstByteDelayMs: 30_000 }));
    const controller = new AbortController();
    const pending = harness.client.chat.completions.create(ask, { signal: controller.signal }).catch((e: unknown) => e);
    await expect.poll(() => harness.emulator.calls.length).toBe(1);
    controller.abort();
    await pending;
    await expect.poll(() => harness.emulator.calls[0]?.aborted).toBe(true);
    await expect.poll(() => concurrentUsed(harness)).toBe(0);
    await expect.poll(async () => (await ledger(harness))[0]?.status).toBe("cancelled");
  });
});

describe("SIGTERM", () => {
  it("stops accepting, lets streams in flight finish, records them all, then exits 0", async () => {
    h = await startHarness({ brokerArgs: ["--drain-seconds", "30"] });
    const harness = h;
    const expected = "word ".repeat(40);
    harness.emulator.setHandler(() => ({ content: [{ text: expected }], chunks: 40, chunkDelayMs: 50 }));
    const streams = await Promise.all(Array.from({ length: 5 }, () => harness.client.chat.completions.create({ ...ask, stream: true })));
    const iterators = streams.map((s) => s[Symbol.asyncIterator]());
    // Every stream has its first chunk: they are in flight.
    const firsts = await Promise.all(iterators.map((it) => it.next()));
    expect(firsts.every((f) => !f.done)).toBe(true);

    const exited = harness.broker.stop("SIGTERM");
    // New connections are refused while the streams drain.
    await expect
      .poll(async () => fetch(`${harness.broker.url}/healthz`).then(() => "accepted", () => "refused"), { timeout: 5_000 })
      .toBe("refused");

    const texts = await Promise.all(
      iterators.map(async (it, i) => {
        let text = firsts[i]?.value?.choices[0]?.delta.content ?? "";
        for (let next = await it.next(); !next.done; next = await it.next()) text += next.value.choices[0]?.delta.content ?? "";
        return text;
      }),
    );
    expect(texts).toEqual(Array(5).fill(expected));
    expect(await exited).toBe(0);
    expect(harness.broker.output()).toMatch(/every request in flight was recorded/);

    await harness.restart();
    const rows = await ledger(harness);
    expect(rows).toHaveLength(5);
    expect(rows.every((r) => r.status === "ok" && r.outputTokens > 0 && !r.usageEstimated)).toBe(true);
  });

  it("past the drain deadline, the streams still open are cut and recorded as cancelled", async () => {
    h = await startHarness({ brokerArgs: ["--drain-seconds", "0.5"] });
    const harness = h;
    harness.emulator.setHandler(() => ({ content: [{ text: "word ".repeat(100) }], chunks: 100, chunkDelayMs: 100 }));
    const stream = await harness.client.chat.completions.create({ ...ask, stream: true });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    const exited = harness.broker.stop("SIGTERM");
    const drained = (async () => {
      try {
        for (let next = await iterator.next(); !next.done; next = await iterator.next());
        return "completed";
      } catch {
        return "cut";
      }
    })();
    expect(await drained).toBe("cut");
    expect(await exited).toBe(0);
    await expect.poll(() => harness.emulator.calls[0]?.aborted).toBe(true);
    await harness.restart();
    expect((await ledger(harness)).map((r) => r.status)).toEqual(["cancelled"]);
  });
});

describe("policy push during a stream", () => {
  it("never drops the request in flight; the next request follows the new policy", async () => {
    h = await startHarness();
    const harness = h;
    harness.emulator.setHandler(() => ({ content: [{ text: "word ".repeat(30) }], chunks: 30, chunkDelayMs: 30 }));
    const stream = await harness.client.chat.completions.create({ ...ask, stream: true });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();

    // The new policy removes the model being streamed and moves the rest to another region.
    const { "claude-sonnet-4": _removed, ...otherModels } = TEST_POLICY.models;
    const pushed = await harness.call("/admin/policy", { method: "PUT", token: TEST_ADMIN_TOKEN, body: JSON.stringify({ ...TEST_POLICY, models: otherModels }) });
    expect(pushed.status).toBe(200);

    let text = "";
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) text += next.value.choices[0]?.delta.content ?? "";
    expect(text.length).toBeGreaterThan(100);
    expect(harness.emulator.calls[0]?.finished).toBe(true);

    const after = await harness.client.chat.completions.create(ask).catch((e: unknown) => e as { status: number });
    expect((after as { status: number }).status).toBe(404);
    expect((await ledger(harness))[0]?.status).toBe("ok");
  });
});

describe("readiness", () => {
  it("/readyz fails while AWS credentials can't be obtained and passes once IMDS answers; /healthz stays up", async () => {
    h = await startHarness();
    const harness = h;
    // A fresh broker whose first credential lookup meets a broken IMDS.
    harness.emulator.imds.available = false;
    await harness.restart();
    const notReady = await fetch(`${harness.broker.url}/readyz`);
    expect(notReady.status).toBe(503);
    const body = (await notReady.json()) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> };
    expect(body.status).toBe("not_ready");
    expect(body.checks.credentials?.ok).toBe(false);
    expect(body.checks.credentials?.detail).toMatch(/AWS credentials unavailable/);
    expect(body.checks.ledger?.ok).toBe(true);
    expect((await fetch(`${harness.broker.url}/healthz`)).status).toBe(200);

    const refused = await harness.client.chat.completions.create(ask).catch((e: unknown) => e as { status: number; message: string });
    expect((refused as { status: number }).status).toBe(503);
    expect((refused as { message: string }).message).toMatch(/could not obtain AWS credentials/);
    // The SDK's text is a sentence of its own before ours follows.
    expect((refused as { message: string }).message).toMatch(/[.!?] On EC2, attach an instance role/);

    harness.emulator.imds.available = true;
    await expect.poll(async () => (await fetch(`${harness.broker.url}/readyz`)).status, { timeout: 15_000 }).toBe(200);
    expect((await harness.client.chat.completions.create(ask)).choices[0]?.message.content).toBeTruthy();
  });
});
