import { z } from "zod";
import {
  defaultsSchema,
  teamEntrySchema,
  teamNameSchema,
  timezoneSchema,
  userEntrySchema,
  userNameSchema,
} from "./access-schema.js";

/*
 * The policy file as an administrator writes it. Every object is strict so a misspelt field is an
 * error rather than silently ignored. Defaults that depend on the model catalogue are applied in
 * resolve-model.ts, not here, so this schema describes the file exactly (and generates
 * shared/policy.schema.json).
 */

export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
export const DEPLOYMENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const REGION_PATTERN = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

export const REASONING_EFFORTS = ["none", "low", "medium", "high"] as const;
export const DEFAULT_REASONING_BUDGETS = { low: 2048, medium: 8192, high: 24576 } as const;
export const MIN_REASONING_BUDGET = 1024;

function usdPerMillion(what: string) {
  return z
    .number()
    .nonnegative({ error: "must be a non-negative number (USD per 1M tokens)" })
    .describe(`USD per 1 million ${what}.`);
}

const positiveInteger = () => z.number().int({ error: "must be a whole number" }).positive({ error: "must be greater than 0" });

export const pricingSchema = z
  .strictObject({
    input: usdPerMillion("non-cached input tokens"),
    output: usdPerMillion("output tokens"),
    cacheRead: usdPerMillion("input tokens read from the prompt cache").optional(),
    cacheWrite: usdPerMillion("input tokens written to the prompt cache").optional(),
  })
  .describe(
    "Price for every deployment of this model, overriding the built-in price list. Required when a " +
      "modelId is not in the built-in catalogue (e.g. application inference profiles). cacheRead and " +
      "cacheWrite default to input times the catalogue's cache ratios for the first known deployment, " +
      "else to 0.1x and 1.25x input.",
  );

export const deploymentSchema = z
  .strictObject({
    id: z
      .string()
      .regex(DEPLOYMENT_ID_PATTERN, { error: "must be 1-64 letters, digits, '_' or '-'" })
      .describe("Name of this deployment, unique within the model; appears in logs and usage."),
    modelId: z
      .string()
      .min(1, { error: "must not be empty" })
      .describe(
        "Bedrock model id: base id, geographic (us., eu., …) or global. inference profile id, or a " +
          "foundation-model / inference-profile / application-inference-profile ARN.",
      ),
    region: z
      .string()
      .regex(REGION_PATTERN, { error: 'must be an AWS region such as "us-east-1"' })
      .describe("AWS region whose Bedrock runtime endpoint is called, e.g. us-east-1."),
  })
  .describe("One place the model can be invoked.");

export const promptCachingSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .optional()
      .describe("Insert Bedrock cache points. Default: on when every deployment's model supports caching."),
    minTokens: positiveInteger()
      .optional()
      .describe("Smallest prompt prefix worth caching. Default: the model's minimum from the catalogue."),
  })
  .describe("Prompt caching (Bedrock cachePoint).");

const budgetSchema = z
  .number()
  .int({ error: "must be a whole number" })
  .min(MIN_REASONING_BUDGET, { error: `must be at least ${MIN_REASONING_BUDGET} tokens` });

export const reasoningSchema = z
  .strictObject({
    defaultEffort: z
      .enum(REASONING_EFFORTS, { error: `must be one of ${REASONING_EFFORTS.map((e) => `"${e}"`).join(", ")}` })
      .optional()
      .describe('Reasoning effort when the client asks for none. Default "none".'),
    budgets: z
      .strictObject({
        low: budgetSchema.optional().describe(`Thinking budget in tokens. Default ${DEFAULT_REASONING_BUDGETS.low}.`),
        medium: budgetSchema
          .optional()
          .describe(`Thinking budget in tokens. Default ${DEFAULT_REASONING_BUDGETS.medium}.`),
        high: budgetSchema.optional().describe(`Thinking budget in tokens. Default ${DEFAULT_REASONING_BUDGETS.high}.`),
      })
      .optional()
      .describe("Extended-thinking token budget for each effort level."),
  })
  .describe("Extended thinking (reasoning). Only for models that support it.");

export const modelEntrySchema = z
  .strictObject({
    route: z
      .array(deploymentSchema)
      .min(1, { error: "must list at least one deployment" })
      .describe("Deployments to try, in order."),
    pricing: pricingSchema.optional(),
    contextWindow: positiveInteger()
      .optional()
      .describe("Context window in tokens. Default: from the catalogue; required for unknown model ids."),
    maxOutputTokens: positiveInteger()
      .optional()
      .describe("Largest completion in tokens. Default: from the catalogue; required for unknown model ids."),
    promptCaching: promptCachingSchema.optional(),
    reasoning: reasoningSchema.optional(),
  })
  .describe("A model offered to clients under the name used as its key.");

export const policyFileSchema = z
  .strictObject({
    $schema: z.string().optional().describe("JSON Schema reference for editors; ignored by Tollgate."),
    timezone: timezoneSchema.optional(),
    models: z
      .record(
        z.string().regex(MODEL_NAME_PATTERN, {
          error: "model name must start with a letter or digit and use only letters, digits and . _ : / - (max 128)",
        }),
        modelEntrySchema,
      )
      .describe("Models clients may ask for, keyed by the name they use in the `model` field."),
    teams: z
      .record(teamNameSchema, teamEntrySchema)
      .optional()
      .describe("Teams, keyed by name. Every user belongs to one."),
    users: z
      .record(userNameSchema, userEntrySchema)
      .optional()
      .describe("Who may call Tollgate, keyed by user name. With no users every request is refused."),
    defaults: defaultsSchema.optional(),
  })
  .meta({
    title: "Tollgate policy",
    description:
      "Which Bedrock models Tollgate offers and how they are priced; which teams and users may use them, " +
      "with which keys and within which limits.",
  });

export type PolicyFile = z.output<typeof policyFileSchema>;
export type ModelEntry = z.output<typeof modelEntrySchema>;
export type DeploymentEntry = z.output<typeof deploymentSchema>;
export type PricingEntry = z.output<typeof pricingSchema>;
