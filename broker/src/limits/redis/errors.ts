// Redis could not be reached (refused, reset, timed out, offline): the fleet's limits fall back to
// each broker's share in memory (ResilientLimitStore) until it answers again.
export class LimitStoreUnavailableError extends Error {
  override readonly name = "LimitStoreUnavailableError";

  static is(error: unknown): error is LimitStoreUnavailableError {
    return error instanceof LimitStoreUnavailableError;
  }
}
