// Requests that used to be half-understood in silence are now refused with a message a person can act on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "../support/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

async function refusal(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; error: { code: string; message: string; param: string | null } }> {
  const response = await h.call("/v1/chat/completions", { method: "POST", body: JSON.stringify(body), headers });
  return { status: response.status, error: ((await response.json()) as { error: { code: string; message: string; param: string | null } }).error };
}

const ask = { model: "claude-sonnet-4", max_tokens: 10, messages: [{ role: "user", content: "hi" }] };

describe("request validation", () => {
  it("refuses OpenAI's deprecated functions and function_call instead of dropping them", async () => {
    const functions = await refusal({ ...ask, functions: [{ name: "read_file", parameters: { type: "object" } }] });
    expect(functions.status).toBe(400);
    expect(functions.error).toMatchObject({ code: "unsupported_parameter", param: "functions" });
    expect(functions.error.message).toMatch(/deprecated form of "tools".*send "tools" instead/);
    const call = await refusal({ ...ask, function_call: "auto" });
    expect(call.error).toMatchObject({ code: "unsupported_parameter", param: "function_call" });
    expect(h.emulator.calls).toHaveLength(0);
  });

  it("refuses an x-tollgate-project the ledger can't record, and records a valid one", async () => {
    const bad = await refusal(ask, { "x-tollgate-project": "bad\tproject!" });
    expect(bad.status).toBe(400);
    expect(bad.error).toMatchObject({ code: "invalid_project", param: "x-tollgate-project" });
    const good = await h.call("/v1/chat/completions", { method: "POST", body: JSON.stringify(ask), headers: { "x-tollgate-project": "web/app-1" } });
    expect(good.status).toBe(200);
  });

  it("tells invalid base64 in an image from an empty one", async () => {
    const image = (url: string) => ({ ...ask, messages: [{ role: "user", content: [{ type: "text", text: "what is it?" }, { type: "image_url", image_url: { url } }] }] });
    const corrupt = await refusal(image("data:image/png;base64,iVBOR!!!notbase64"));
    expect(corrupt.error.code).toBe("invalid_image");
    expect(corrupt.error.message).toMatch(/is not valid base64/);
    const empty = await refusal(image("data:image/png;base64,"));
    expect(empty.error.message).toMatch(/holds no data/);
  });

  it("says what content may be when it is null", async () => {
    const nullContent = await refusal({ ...ask, messages: [{ role: "user", content: null }] });
    expect(nullContent.status).toBe(400);
    expect(nullContent.error.message).toMatch(/messages\[0\]\.content: must be a string or an array of content parts, not null/);
  });
});
