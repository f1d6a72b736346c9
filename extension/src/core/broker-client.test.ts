// The broker client's /v1/models: the limits each model states, and an older broker that sends ids only.
import { describe, expect, it } from "vitest";
import { BrokerError, createBrokerClient } from "./broker-client.js";

function clientAnswering(body: unknown) {
  const seen: string[] = [];
  const client = createBrokerClient({
    brokerUrl: () => "http://broker.test",
    developerKey: async () => "tg_key",
    fetch: (async (url: string) => {
      seen.push(url);
      return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
    }) as typeof fetch,
  });
  return { client, seen };
}

describe("broker client: models", () => {
  it("returns each model with the limits the broker states", async () => {
    const entry = { id: "claude-sonnet-4", object: "model", created: 1, owned_by: "tollgate", context_window: 200_000, max_output_tokens: 64_000, vision: true };
    const { client, seen } = clientAnswering({ object: "list", data: [entry] });
    expect(await client.models()).toEqual([{ id: "claude-sonnet-4", context_window: 200_000, max_output_tokens: 64_000, vision: true }]);
    expect(seen).toEqual(["http://broker.test/v1/models"]);
  });

  it("takes ids alone from a broker older than the limit fields", async () => {
    const { client } = clientAnswering({ object: "list", data: [{ id: "claude-sonnet-4", object: "model" }] });
    expect(await client.models()).toEqual([{ id: "claude-sonnet-4" }]);
  });

  it("refuses an answer that breaks the contract", async () => {
    const { client } = clientAnswering({ object: "list", data: [{ id: 7 }] });
    await expect(client.models()).rejects.toSatisfy((error) => BrokerError.is(error, "invalid-response"));
  });
});
