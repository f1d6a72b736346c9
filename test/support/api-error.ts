import { APIError } from "openai";
import { expect } from "vitest";

/** Awaits a call that must fail, and returns the `openai` client's APIError for assertions. */
export async function apiError(promise: Promise<unknown>): Promise<APIError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(APIError);
  return error as APIError;
}
