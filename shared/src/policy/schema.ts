import { z } from "zod";
import { telemetrySchema } from "./telemetry-schema.js";
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
export const ROLE_ARN_PATTERN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@\/-]{1,512}$/;
export const ROUTING_STRATEGIES = ["ordered", "weighted", "least-busy"] as const;
export type RoutingStrategy = (typeof ROUTING_STRATEGIES)[number];

/** Routing defaults; documented in docs/routing.md. */
export const DEFAULT_TIMEOUTS = { firstTokenMs: 60_000, idleMs: 60_000, responseMs: 300_000 } as const;
export const DEFAULT_COOLDOWN = { initialMs: 5_000, maxMs: 300_000 } as const;

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
    roleArn: z
      .string()
      .regex(ROLE_ARN_PATTERN, { error: 'must be an IAM role ARN such as "arn:aws:iam::222222222222:role/bedrock-invoke"' })
      .optional()
      .describe(
        "IAM role to assume (STS AssumeRole, from the broker's own credentials) for this deployment, e.g. in " +
          "another AWS account. Default: the broker's own credentials (instance role).",
      ),
    externalId: z
      .string()
      .regex(/^[\w+=,.@:\/-]{2,1224}$/, { error: "must be 2-1224 letters, digits or + = , . @ : / - _" })
      .optional()
      .describe("External id the role's trust policy requires. Only with roleArn."),
    sessionName: z
      .string()
      .regex(/^[\w+=,.@-]{2,64}$/, { error: "must be 2-64 letters, digits or + = , . @ - _" })
      .optional()
      .describe('Role session name, visible in the account\'s CloudTrail. Only with roleArn. Default "tollgate".'),
    weight: z
      .number()
      .positive({ error: "must be greater than 0" })
      .optional()
      .describe('Share of traffic under strategy "weighted", relative to the other deployments. Default 1.'),
  })
  .describe("One place the model can be invoked.");

const modelNameList = (what: string) =>
  z
    .array(z.string().regex(MODEL_NAME_PATTERN, { error: "must be a model name" }))
    .optional()
    .describe(what);

export const timeoutsSchema = z
  .strictObject({
    firstTokenMs: positiveInteger()
      .optional()
      .describe(`Streamed requests: longest wait for the first token. Default ${DEFAULT_TIMEOUTS.firstTokenMs}.`),
    idleMs: positiveInteger()
      .optional()
      .describe(`Streamed requests: longest silence between two events. Default ${DEFAULT_TIMEOUTS.idleMs}.`),
    responseMs: positiveInteger()
      .optional()
      .describe(`Non-streamed requests: longest wait for the whole answer. Default ${DEFAULT_TIMEOUTS.responseMs}.`),
  })
  .describe("When a deployment counts as stuck; a timeout before the first byte falls back like a throttle.");

export const cooldownSchema = z
  .strictObject({
    initialMs: positiveInteger()
      .optional()
      .describe(`Cool-down after a deployment's first failure (or Bedrock's retry-after, if longer). Default ${DEFAULT_COOLDOWN.initialMs}.`),
    maxMs: positiveInteger()
      .optional()
      .describe(`Longest cool-down; it doubles on each consecutive failure up to this. Default ${DEFAULT_COOLDOWN.maxMs}.`),
  })
  .describe("How long a throttled or failing deployment is skipped.");

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
      .describe("Deployments that serve this model (in order under strategy \"ordered\")."),
    strategy: z
      .enum(ROUTING_STRATEGIES, { error: `must be one of ${ROUTING_STRATEGIES.map((s) => `"${s}"`).join(", ")}` })
      .optional()
      .describe(
        'How a request picks among healthy deployments: "ordered" (the first healthy one; others are spare ' +
          'capacity), "weighted" (random, in proportion to each deployment\'s weight), "least-busy" (fewest ' +
          'requests in flight). Default "ordered".',
      ),
    fallbacks: modelNameList(
      "Models to try, in order, when every deployment of this one is throttled, failing or cooling down. Only " +
        "models the user may use are tried; cost and limits count against the model that served.",
    ),
    contextFallbacks: modelNameList(
      "Models (with larger context windows) to try, in order, when the conversation is too long for this one.",
    ),
    timeouts: timeoutsSchema.optional(),
    cooldown: cooldownSchema.optional(),
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
    telemetry: telemetrySchema.optional(),
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
