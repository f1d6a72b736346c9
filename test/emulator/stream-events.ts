// The ConverseStream event sequence for a reply, in Bedrock's order: messageStart, per block
// [contentBlockStart for toolUse only] deltas contentBlockStop, then messageStop. The writer adds
// metadata last itself: its usage counts as reported only once it is really sent.

import type { ReplyBlock, ReplyPlan } from "./reply-plan.js";
import { splitJson, splitText } from "./text-chunks.js";

export interface StreamEvent {
  type: string;
  payload: Record<string, unknown>;
}

export function* streamEvents(plan: ReplyPlan): Generator<StreamEvent> {
  yield { type: "messageStart", payload: { role: "assistant" } };
  for (const [contentBlockIndex, block] of plan.blocks.entries()) {
    if (block.kind === "toolUse") {
      const start = { toolUse: { toolUseId: block.toolUseId, name: block.name } };
      yield { type: "contentBlockStart", payload: { contentBlockIndex, start } };
    }
    for (const delta of blockDeltas(block, plan.chunks)) {
      yield { type: "contentBlockDelta", payload: { contentBlockIndex, delta } };
    }
    yield { type: "contentBlockStop", payload: { contentBlockIndex } };
  }
  yield { type: "messageStop", payload: { stopReason: plan.stopReason } };
}

function blockDeltas(block: ReplyBlock, chunks: number | undefined): Array<Record<string, unknown>> {
  if (block.kind === "text") return splitText(block.text, chunks).map((text) => ({ text }));
  if (block.kind === "reasoning") {
    const texts = splitText(block.text, chunks).map((text) => ({ reasoningContent: { text } }));
    return [...texts, { reasoningContent: { signature: block.signature } }];
  }
  const input = JSON.stringify(block.input ?? {});
  return splitJson(input, chunks).map((fragment) => ({ toolUse: { input: fragment } }));
}

/** How many deltas a reply streams: the non-streaming answer waits as long as the stream would take. */
export function deltaCount(plan: ReplyPlan): number {
  return plan.blocks.reduce((count, block) => count + blockDeltas(block, plan.chunks).length, 0);
}
