// Contracts of the broker's user API (`/v1/me…`), read by the extension's status bar and panels.
// zod schemas so the extension can validate what it receives at its boundary too.
import { z } from "zod";

export const limitStatusSchema = z.object({
  /** "rpm" | "tpm" | "concurrent" | "dailyUsd" | "monthlyUsd" */
  limit: z.enum(["rpm", "tpm", "concurrent", "dailyUsd", "monthlyUsd"]),
  /** Who the limit belongs to, e.g. "user alice", "team platform", "team platform, model claude-opus-4-1". */
  scope: z.string(),
  max: z.number(),
  used: z.number(),
  remaining: z.number(),
  /** ISO time when the limit next frees up (window slide or period end); null when nothing is used. */
  resetsAt: z.string().nullable(),
});

export const budgetStatusSchema = z.object({
  scope: z.string(),
  period: z.enum(["day", "month"]),
  budgetUsd: z.number().nullable(),
  spentUsd: z.number(),
  remainingUsd: z.number().nullable(),
  resetsAt: z.string(),
});

export const meResponseSchema = z.object({
  user: z.string(),
  team: z.string(),
  models: z.array(z.string()),
  timezone: z.string(),
  limits: z.array(limitStatusSchema),
  budgets: z.array(budgetStatusSchema),
});

/**
 * One entry of `GET /v1/models`: OpenAI's model object, plus what the policy says the model can take,
 * so clients (the extension's language-model provider) don't have to guess a context window.
 */
export const modelEntrySchema = z.object({
  id: z.string(),
  object: z.literal("model"),
  created: z.number(),
  owned_by: z.string(),
  /** Input tokens the model accepts (the policy's contextWindow). */
  context_window: z.number().int().positive(),
  /** The most output tokens a request may ask for (the policy's maxOutputTokens). */
  max_output_tokens: z.number().int().positive(),
  /** Whether the model takes images. */
  vision: z.boolean(),
});

export const modelListSchema = z.object({ object: z.literal("list"), data: z.array(modelEntrySchema) });

export const usageGroupBySchema = z.enum(["day", "model", "project"]);
/** One meaning of the token words everywhere (ledger, API, CLI, docs). */
const UNCACHED_INPUT =
  "Input tokens billed at the full input price: not read from or written to the prompt cache. OpenAI's prompt_tokens = inputTokens + cacheReadTokens + cacheWriteTokens.";

export const adminUsageGroupBySchema = z.enum(["day", "model", "project", "user", "team"]);

export const usageRowSchema = z.object({
  key: z.string(),
  requests: z.number(),
  inputTokens: z.number().describe(UNCACHED_INPUT),
  cacheReadTokens: z.number(),
  cacheWriteTokens: z.number(),
  outputTokens: z.number(),
  costUsd: z.number(),
  /** What prompt caching saved versus paying the full input price (negative when writes cost more than reads saved). */
  cacheSavingsUsd: z.number(),
});

export const usageResponseSchema = z.object({
  from: z.string(),
  to: z.string(),
  groupBy: adminUsageGroupBySchema,
  rows: z.array(usageRowSchema),
  total: usageRowSchema.omit({ key: true }),
});

export const requestRecordSchema = z.object({
  id: z.string(),
  time: z.string(),
  user: z.string(),
  team: z.string(),
  project: z.string().nullable(),
  model: z.string(),
  servedModel: z.string(),
  deployment: z.string().nullable(),
  status: z.enum(["ok", "error", "cancelled"]),
  httpStatus: z.number(),
  inputTokens: z.number().describe(UNCACHED_INPUT),
  cacheReadTokens: z.number(),
  cacheWriteTokens: z.number(),
  outputTokens: z.number(),
  costUsd: z.number(),
  latencyMs: z.number(),
  ttftMs: z.number().nullable(),
  fallbacks: z.number(),
  errorCode: z.string().nullable(),
  /** Bedrock reported no usage (stream cut short): the tokens and cost are the broker's estimate. */
  usageEstimated: z.boolean(),
});

export const requestsResponseSchema = z.object({ data: z.array(requestRecordSchema) });

export type ModelEntry = z.infer<typeof modelEntrySchema>;
export type ModelList = z.infer<typeof modelListSchema>;
export type LimitStatus = z.infer<typeof limitStatusSchema>;
export type BudgetStatus = z.infer<typeof budgetStatusSchema>;
export type MeResponse = z.infer<typeof meResponseSchema>;
export type UsageGroupBy = z.infer<typeof adminUsageGroupBySchema>;
export type UsageRow = z.infer<typeof usageRowSchema>;
export type UsageResponse = z.infer<typeof usageResponseSchema>;
export type RequestRecord = z.infer<typeof requestRecordSchema>;
export type RequestsResponse = z.infer<typeof requestsResponseSchema>;

/** Headers on every proxied response that clients (the extension's status bar) read. */
export const RATE_LIMIT_HEADERS = {
  limitRequests: "x-ratelimit-limit-requests",
  remainingRequests: "x-ratelimit-remaining-requests",
  resetRequests: "x-ratelimit-reset-requests",
  limitTokens: "x-ratelimit-limit-tokens",
  remainingTokens: "x-ratelimit-remaining-tokens",
  resetTokens: "x-ratelimit-reset-tokens",
  budgetRemainingUsd: "x-tollgate-budget-remaining-usd",
} as const;
