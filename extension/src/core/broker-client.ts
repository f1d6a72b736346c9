// The extension's client of the broker's user API (/v1/me, /v1/me/usage, /v1/me/requests,
// /v1/models), validating answers with the shared zod contracts at the boundary.
import { z } from "zod";
import { meResponseSchema, modelEntrySchema, requestsResponseSchema, usageResponseSchema, type MeResponse, type RequestRecord, type UsageResponse } from "./api.js";

/**
 * A model as the extension takes it from /v1/models: the extension and the broker upgrade apart, and a
 * broker older than the limits fields sends ids only, so here they are optional (callers fall back).
 */
const brokerModelSchema = modelEntrySchema.pick({ id: true }).extend(modelEntrySchema.pick({ context_window: true, max_output_tokens: true, vision: true }).partial().shape);
const brokerModelListSchema = z.object({ data: z.array(brokerModelSchema) });
export type BrokerModel = z.infer<typeof brokerModelSchema>;

export type BrokerErrorKind = "unreachable" | "no-key" | "http" | "invalid-response";

export class BrokerError extends Error {
  override readonly name = "BrokerError";
  constructor(
    readonly kind: BrokerErrorKind,
    message: string,
    readonly status?: number,
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  static is(error: unknown, kind?: BrokerErrorKind): error is BrokerError {
    return error instanceof BrokerError && (kind === undefined || error.kind === kind);
  }
}

export interface BrokerClientOptions {
  brokerUrl: () => string;
  developerKey: () => Promise<string | undefined>;
  project?: () => string | undefined;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Sees every response's status and headers (the status bar reads rate-limit headers from them). */
  onResponse?: (status: number, headers: Headers) => void;
}

export interface UsageQuery {
  groupBy: "day" | "model" | "project";
  from?: Date;
  to?: Date;
}

export interface BrokerClient {
  me(key?: string): Promise<MeResponse>;
  usage(query: UsageQuery): Promise<UsageResponse>;
  requests(limit: number): Promise<RequestRecord[]>;
  models(): Promise<BrokerModel[]>;
}

export function brokerApiUrl(brokerUrl: string, path: string): string {
  return `${brokerUrl.replace(/\/+$/, "")}${path}`;
}

export function createBrokerClient(options: BrokerClientOptions): BrokerClient {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function get<T>(path: string, schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } }, keyOverride?: string): Promise<T> {
    const key = keyOverride ?? (await options.developerKey());
    if (!key) throw new BrokerError("no-key", "No Tollgate key: sign in first.");
    const base = options.brokerUrl();
    let response: Response;
    try {
      const headers: Record<string, string> = { authorization: `Bearer ${key}`, accept: "application/json" };
      const project = options.project?.();
      if (project) headers["x-tollgate-project"] = project;
      response = await doFetch(brokerApiUrl(base, path), { headers, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      const reason = cause?.code ?? (error as Error).name;
      throw new BrokerError("unreachable", `The broker at ${base} is unreachable (${reason}).`, undefined, undefined, { cause: error });
    }
    options.onResponse?.(response.status, response.headers);
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new BrokerError("invalid-response", `The broker answered ${path} with ${response.status} and a body that is not JSON.`, response.status);
    }
    if (!response.ok) {
      const error = (body as { error?: { message?: unknown; code?: unknown } } | null)?.error;
      const message = typeof error?.message === "string" ? error.message : `HTTP ${response.status}`;
      throw new BrokerError("http", message, response.status, typeof error?.code === "string" ? error.code : undefined);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new BrokerError("invalid-response", `The broker's answer to ${path} does not match the expected contract (is the broker older or newer than the extension?).`, response.status);
    return parsed.data;
  }

  const zodSchema = <S extends z.ZodType>(schema: S) => ({
    safeParse(value: unknown): { success: true; data: z.infer<S> } | { success: false } {
      const result = schema.safeParse(value);
      return result.success ? { success: true, data: result.data } : { success: false };
    },
  });

  return {
    me: (key) => get("/v1/me", zodSchema(meResponseSchema), key),
    usage: (query) => {
      const params = new URLSearchParams({ groupBy: query.groupBy });
      if (query.from) params.set("from", query.from.toISOString());
      if (query.to) params.set("to", query.to.toISOString());
      return get(`/v1/me/usage?${params}`, zodSchema(usageResponseSchema));
    },
    requests: async (limit) => (await get(`/v1/me/requests?limit=${limit}`, zodSchema(requestsResponseSchema))).data,
    models: async () => (await get("/v1/models", zodSchema(brokerModelListSchema))).data,
  };
}
