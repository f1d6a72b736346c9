import { ConverseCommand, ConverseStreamCommand } from "@aws-sdk/client-bedrock-runtime";
import { describe, expect, it } from "vitest";
import { CallLog } from "./call-log.js";
import { HANDLERS, SONNET_4, startHarness, userText } from "./sdk-harness.js";
import type { RecordedCall } from "./types.js";

const request = { modelId: SONNET_4, messages: [userText("Hi")] };

describe("emulator lifecycle", () => {
  it("close() ends hung requests on both protocols promptly", async () => {
    const harness = await startHarness();
    harness.emulator.setHandler(() => ({ hang: true }));
    const pending = HANDLERS.flatMap((handler) => {
      const client = harness.client(handler);
      return [client.send(new ConverseCommand(request)), client.send(new ConverseStreamCommand(request))];
    });
    const settled = Promise.allSettled(pending);
    while (harness.emulator.calls.length < 4) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = Date.now();
    await harness.stop();
    const results = await settled;
    expect(results.every((result) => result.status === "rejected")).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("applies setOptions delays and reset() clears the record", async () => {
    const harness = await startHarness();
    try {
      harness.emulator.setOptions({ firstByteDelayMs: 80 });
      const client = harness.client("http1");
      await client.send(new ConverseCommand(request)); // warms the credential chain
      const started = Date.now();
      await client.send(new ConverseCommand(request));
      expect(Date.now() - started).toBeGreaterThanOrEqual(75);
      expect(harness.emulator.totals().calls).toBe(2);
      harness.emulator.reset();
      expect(harness.emulator.calls).toHaveLength(0);
      expect(harness.emulator.totals()).toEqual({ calls: 0, inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 });
    } finally {
      await harness.stop();
    }
  });

  it("keeps the last 1000 calls but totals everything", () => {
    const log = new CallLog();
    const calls = log.calls;
    for (let index = 0; index < 1005; index += 1) {
      const call = { id: String(index) } as RecordedCall;
      log.add(call);
      log.reportUsage(call, { inputTokens: 1, outputTokens: 2, totalTokens: 3, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 });
    }
    expect(calls).toHaveLength(1000);
    expect(calls[0]?.id).toBe("5");
    expect(log.totals()).toMatchObject({ calls: 1005, inputTokens: 1005, outputTokens: 2010 });
  });
});
