import type { z } from "zod";
import { knownKeysAt, suggestKey } from "./known-keys.js";
import type { PathSegment } from "./json-path.js";

/** A problem before its path is formatted; paths are relative to the document root. */
export interface RawProblem {
  path: PathSegment[];
  message: string;
}

/** Per-parse zod error map: short messages that say what to write instead. */
export const policyErrorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code !== "invalid_type") return undefined;
  if (issue.input === undefined) return "is required";
  return `must be ${describeExpected(issue.expected)}, not ${describeValue(issue.input)}`;
};

/**
 * zod issues as policy problems. An unrecognized_keys issue becomes one problem per key, with the key
 * in the path, so every typo is pointed at where it is.
 */
export function issuesToProblems(issues: readonly z.core.$ZodIssue[], schema: z.ZodType): RawProblem[] {
  return issues.flatMap((issue): RawProblem[] => {
    const path = issue.path.map(toSegment);
    if (issue.code === "unrecognized_keys") {
      const allowed = knownKeysAt(schema, issue.path);
      return issue.keys.map((key) => ({ path: [...path, key], message: unknownFieldMessage(key, allowed) }));
    }
    if (issue.code === "invalid_key") {
      return issue.issues.map((inner) => ({ path, message: inner.message }));
    }
    return [{ path, message: issue.message }];
  });
}

function unknownFieldMessage(key: string, allowed: readonly string[]): string {
  const suggestion = suggestKey(key, allowed);
  return suggestion === undefined ? `unknown field "${key}"` : `unknown field "${key}" (did you mean "${suggestion}"?)`;
}

function toSegment(key: PropertyKey): PathSegment {
  return typeof key === "symbol" ? (key.description ?? "") : key;
}

function describeExpected(expected: string): string {
  switch (expected) {
    case "object":
    case "array":
      return `an ${expected}`;
    case "boolean":
      return "true or false";
    case "int":
      return "a whole number";
    default:
      return `a ${expected}`;
  }
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}
