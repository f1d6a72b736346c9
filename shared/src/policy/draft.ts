import { z } from "zod";
import { lookupModel } from "../pricing/lookup.js";
import type { KnownModel } from "../pricing/types.js";
import type { PathSegment } from "./json-path.js";
import {
  deploymentSchema,
  modelEntrySchema,
  promptCachingSchema,
  reasoningSchema,
  type DeploymentEntry,
  type ModelEntry,
} from "./schema.js";

/*
 * Semantic checks must run even when zod rejected other parts of the same model, or fixing one
 * problem would only reveal the next. A draft keeps every field that is valid on its own; `given`
 * tells "absent" (defaults apply) from "present but invalid" (zod already reported it, stay quiet).
 */

export interface Draft<T> {
  values: Partial<T>;
  given(key: keyof T & string): boolean;
}

export interface ModelDraft extends Draft<ModelEntry> {
  route: Draft<DeploymentEntry>[];
  promptCaching: Draft<NonNullable<ModelEntry["promptCaching"]>>;
  reasoning: Draft<NonNullable<ModelEntry["reasoning"]>>;
}

/** A deployment whose modelId is valid, with what the catalogue knows about it. */
export interface DeploymentFacts {
  index: number;
  modelId: string;
  known: KnownModel | undefined;
}

export function draftModel(raw: unknown): ModelDraft {
  const fields = asRecord(raw);
  const route = Array.isArray(fields.route) ? fields.route : [];
  return {
    ...draftOf(modelEntrySchema, raw),
    route: route.map((item: unknown) => draftOf(deploymentSchema, item)),
    promptCaching: draftOf(promptCachingSchema, fields.promptCaching),
    reasoning: draftOf(reasoningSchema, fields.reasoning),
  };
}

export function deploymentFacts(route: readonly Draft<DeploymentEntry>[]): DeploymentFacts[] {
  return route.flatMap((deployment, index) => {
    const modelId = deployment.values.modelId;
    return modelId === undefined ? [] : [{ index, modelId, known: lookupModel(modelId) }];
  });
}

export function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function draftOf<Schema extends z.ZodObject>(schema: Schema, raw: unknown): Draft<z.output<Schema>> {
  const fields = asRecord(raw);
  const values: Record<string, unknown> = {};
  for (const [key, fieldSchema] of Object.entries(schema.shape)) {
    if (fields[key] === undefined) continue;
    const result = z.safeParse(fieldSchema, fields[key]);
    if (result.success && result.data !== undefined) values[key] = result.data;
  }
  return {
    values: values as Partial<z.output<Schema>>,
    // JSON has no undefined, but a JS caller's `{ pricing: undefined }` means "absent" to zod too.
    given: (key) => fields[key] !== undefined,
  };
}

/** Records a problem at a path relative to the model being checked. */
export type ReportProblem = (path: PathSegment[], message: string) => void;

/** How messages point at a deployment: `route[1] ("us.amazon.nova-pro-v1:0", Amazon Nova Pro)`. */
export function describeDeployment(facts: DeploymentFacts): string {
  const name = facts.known === undefined ? "" : `, ${facts.known.displayName}`;
  return `route[${facts.index}] (${JSON.stringify(facts.modelId)}${name})`;
}
