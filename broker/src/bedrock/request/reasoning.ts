// OpenAI `reasoning_effort` (or the model's default in the policy) → Claude extended thinking.
import type { ModelPolicy, ReasoningEffortRequest } from "@tollgate/shared";
import { invalidRequest } from "../../errors.js";

/** When the client sets no max_tokens: room for a long answer without reserving the model's maximum. */
export const DEFAULT_ANSWER_TOKENS = 16_384;
/** Bedrock's smallest thinking budget. */
export const MIN_THINKING_BUDGET = 1_024;

export interface OutputPlan {
  maxTokens: number;
  /** Thinking budget in tokens, or undefined when thinking is off. */
  thinkingBudget: number | undefined;
}

export function planOutput(
  model: ModelPolicy,
  requestedEffort: ReasoningEffortRequest | null | undefined,
  requestedMaxTokens: number | null | undefined,
  maxTokensParam: string,
): OutputPlan {
  if (requestedMaxTokens != null && requestedMaxTokens > model.maxOutputTokens) {
    throw invalidRequest(
      `${maxTokensParam} is ${requestedMaxTokens}, above ${model.name}'s maximum output of ${model.maxOutputTokens} tokens.`,
      maxTokensParam,
    );
  }
  let budget = model.reasoning.supported ? budgetFor(requestedEffort ?? model.reasoning.defaultEffort, model) : undefined;

  if (requestedMaxTokens != null) {
    // Thinking tokens count against max_tokens; leave at least half of it for the answer.
    if (budget !== undefined && budget >= requestedMaxTokens) budget = Math.floor(requestedMaxTokens / 2);
    if (budget !== undefined && budget < MIN_THINKING_BUDGET) budget = undefined;
    return { maxTokens: requestedMaxTokens, thinkingBudget: budget };
  }
  const wanted = (budget ?? 0) + DEFAULT_ANSWER_TOKENS;
  const maxTokens = Math.min(model.maxOutputTokens, wanted);
  if (budget !== undefined && budget >= maxTokens) budget = Math.floor(maxTokens / 2);
  if (budget !== undefined && budget < MIN_THINKING_BUDGET) budget = undefined;
  return { maxTokens, thinkingBudget: budget };
}

function budgetFor(effort: ReasoningEffortRequest, model: ModelPolicy): number | undefined {
  switch (effort) {
    case "none":
      return undefined;
    case "minimal":
      return MIN_THINKING_BUDGET;
    case "low":
    case "medium":
    case "high":
      return model.reasoning.budgets[effort];
  }
}
