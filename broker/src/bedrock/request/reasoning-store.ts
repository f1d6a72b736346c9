// Keeps Claude's thinking blocks (text + signature) between turns. OpenAI's message format has no
// field for a thinking signature, and Bedrock refuses a follow-up turn whose tool-using assistant
// message lost its signed thinking block. We remember the blocks under the ids of the tool calls
// they preceded: clients echo tool call ids back verbatim, so the next turn finds them again.
// Behind an interface so a fleet of brokers can share it (Redis) later.
import type { ReasoningContentBlock } from "@aws-sdk/client-bedrock-runtime";

export interface ReasoningStore {
  remember(toolCallId: string, blocks: ReasoningContentBlock[]): void;
  recall(toolCallId: string): ReasoningContentBlock[] | undefined;
}

/** Bounded LRU with a time-to-live: an agent's tool loop resumes within minutes, not days. */
export class MemoryReasoningStore implements ReasoningStore {
  private readonly entries = new Map<string, { blocks: ReasoningContentBlock[]; expiresAt: number }>();

  constructor(
    private readonly maxEntries = 20_000,
    private readonly ttlMs = 6 * 60 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  remember(toolCallId: string, blocks: ReasoningContentBlock[]): void {
    this.entries.delete(toolCallId);
    this.entries.set(toolCallId, { blocks, expiresAt: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  recall(toolCallId: string): ReasoningContentBlock[] | undefined {
    const entry = this.entries.get(toolCallId);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(toolCallId);
      return undefined;
    }
    // Refresh recency: a long agent session keeps touching its latest turns.
    this.entries.delete(toolCallId);
    this.entries.set(toolCallId, entry);
    return entry.blocks;
  }
}
