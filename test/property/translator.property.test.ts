// The HTTP boundary's request checks and the OpenAI → Converse translator, on generated and mutated
// chat requests: valid requests become Converse input the emulator's validator (Bedrock's rules)
// accepts; anything else is refused with the typed 4xx ApiError, never another exception.
import { chatCompletionRequestSchema, parsePolicy, type ModelPolicy } from "@tollgate/shared";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toBedrockRequest, type ConverseBody } from "../../broker/src/bedrock/request/index.js";
import { MemoryReasoningStore } from "../../broker/src/bedrock/request/reasoning-store.js";
import { ApiError } from "../../broker/src/errors.js";
import { parseBody } from "../../broker/src/http/validate.js";
import { resolveModel } from "../emulator/model-profiles.js";
import { ReasoningSigner } from "../emulator/reasoning-signature.js";
import { validateRequest } from "../emulator/validate-request.js";
import { validChatRequest } from "./chat-arbitraries.js";
import { caseTally, mutate, mutationArb, runs } from "./support.js";

const count = caseTally("translator");

/** Models of different capabilities, resolved by the policy parser exactly as the broker does. */
const MODELS: ModelPolicy[] = (() => {
  const route = (modelId: string) => [{ id: "main", modelId, region: "us-east-1" }];
  const result = parsePolicy({
    models: {
      "claude-sonnet-4": { route: route("us.anthropic.claude-sonnet-4-20250514-v1:0") },
      "claude-sonnet-4-5": { route: route("us.anthropic.claude-sonnet-4-5-20250929-v1:0"), reasoning: { defaultEffort: "low" } },
      "nova-pro": { route: route("us.amazon.nova-pro-v1:0") },
      "llama3-3-70b": { route: route("us.meta.llama3-3-70b-instruct-v1:0") },
    },
  });
  if (!result.ok) throw new Error(`test policy invalid: ${JSON.stringify(result.problems)}`);
  return [...result.policy.models.values()];
})();

const modelArb = fc.constantFrom(...MODELS);

/** What the AWS SDK puts on the wire: the same JSON, with image bytes as base64. */
function onTheWire(body: ConverseBody): unknown {
  return JSON.parse(
    JSON.stringify(body, function (this: Record<string, unknown>, key: string, value: unknown) {
      const original = this[key];
      return original instanceof Uint8Array ? Buffer.from(original).toString("base64") : value;
    }),
  );
}

function translate(body: unknown, model: ModelPolicy) {
  const request = parseBody(chatCompletionRequestSchema, body);
  return toBedrockRequest(request, model, { reasoningStore: new MemoryReasoningStore() });
}

/** Runs `fn`; anything thrown must be the typed 4xx ApiError with a message. */
function refusedOrTranslated(fn: () => unknown): "translated" | "refused" {
  try {
    fn();
    return "translated";
  } catch (error) {
    if (!(error instanceof ApiError)) throw new Error(`threw ${String(error)} instead of an ApiError`, { cause: error });
    expect(error.status).toBeGreaterThanOrEqual(400);
    expect(error.status).toBeLessThan(500);
    expect(error.message.length).toBeGreaterThan(10);
    return "refused";
  }
}

const validRequest = modelArb.chain((model) =>
  validChatRequest(model.name, { vision: model.vision, maxOutputTokens: model.maxOutputTokens }).map((body) => ({ model, body })),
);

const modelNamed = (name: string): ModelPolicy => {
  const model = MODELS.find((candidate) => candidate.name === name);
  if (!model) throw new Error(`no model ${name}`);
  return model;
};

/** Counterexamples the properties found once (each was a Bedrock ValidationException), kept as fixed cases. */
const FOUND: Array<[{ model: ModelPolicy; body: Record<string, unknown> }]> = [
  // Thinking while tool_choice forces a tool: Claude refuses it.
  [{ model: modelNamed("claude-sonnet-4"), body: { model: "claude-sonnet-4", messages: [{ role: "user", content: "hi" }], tools: [{ type: "function", function: { name: "focus_chain" } }], tool_choice: { type: "function", function: { name: "focus_chain" } }, reasoning_effort: "low" } }],
  // cache_control on a model without prompt caching: Bedrock refuses cache points there.
  [{ model: modelNamed("llama3-3-70b"), body: { model: "llama3-3-70b", messages: [{ role: "user", content: [{ type: "text", text: "hi", cache_control: { type: "ephemeral" } }] }] } }],
  // An empty assistant turn after a tool round hid that the last tool turn lacked its thinking.
  [{ model: modelNamed("claude-sonnet-4"), body: { model: "claude-sonnet-4", reasoning_effort: "low", tools: [{ type: "function", function: { name: "read_file" } }], messages: [{ role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "read_file", arguments: "" } }] }, { role: "tool", tool_call_id: "c1", content: "x" }, { role: "assistant", content: null }, { role: "user", content: "go on" }] } }],
];

describe("the request translator", () => {
  it("turns every valid request into Converse input Bedrock's rules accept", () => {
    const signer = new ReasoningSigner();
    fc.assert(
      fc.property(validRequest, ({ model, body }) => {
        count("valid requests");
        const translated = translate(body, model);
        const deployment = model.route[0];
        if (!deployment) throw new Error("model without a deployment");
        validateRequest(onTheWire(translated.body), { model: resolveModel(deployment.modelId), signer, contextWindowTokens: model.contextWindow });
        expect(translated.maxTokens).toBeLessThanOrEqual(model.maxOutputTokens);
      }),
      { numRuns: runs(400), examples: FOUND },
    );
  });

  it("refuses mutated requests with a typed 4xx ApiError, or translates them; never anything else", () => {
    fc.assert(
      fc.property(validRequest, fc.array(fc.tuple(fc.nat(), mutationArb), { minLength: 1, maxLength: 3 }), ({ model, body }, mutations) => {
        let mutated: unknown = body;
        for (const [pick, mutation] of mutations) mutated = mutate(mutated, pick, mutation);
        count(`mutated requests (${refusedOrTranslated(() => translate(mutated, model))})`);
      }),
      { numRuns: runs(600) },
    );
  });

  it("refuses arbitrary JSON and wrong-typed fields with a typed 4xx ApiError", () => {
    const field = (arb: fc.Arbitrary<unknown>) => fc.option(arb, { nil: undefined, freq: 3 });
    const wrongTyped = fc.record(
      {
        model: field(fc.jsonValue({ maxDepth: 2 })),
        messages: field(fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.array(fc.record({ role: fc.jsonValue({ maxDepth: 1 }), content: fc.jsonValue({ maxDepth: 3 }) })))),
        tools: field(fc.jsonValue({ maxDepth: 3 })),
        tool_choice: field(fc.jsonValue({ maxDepth: 2 })),
        temperature: field(fc.jsonValue({ maxDepth: 1 })),
        max_tokens: field(fc.oneof(fc.integer(), fc.double(), fc.jsonValue({ maxDepth: 1 }))),
        stop: field(fc.jsonValue({ maxDepth: 2 })),
        stream: field(fc.jsonValue({ maxDepth: 1 })),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 4 }), wrongTyped), modelArb, (body, model) => {
        count(`arbitrary bodies (${refusedOrTranslated(() => translate(body, model))})`);
      }),
      { numRuns: runs(600) },
    );
  });
});
