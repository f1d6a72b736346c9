import type { FinishReason } from "@tollgate/shared";

/** Bedrock stop reasons → OpenAI finish reasons. */
export function toFinishReason(stopReason: string | undefined): FinishReason {
  switch (stopReason) {
    case "tool_use":
      return "tool_calls";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "guardrail_intervened":
    case "content_filtered":
      return "content_filter";
    default:
      // end_turn, stop_sequence, and anything newer that still ended the turn normally.
      return "stop";
  }
}
