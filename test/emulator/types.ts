import type { ConverseRequestBody } from "./bedrock-request.js";

export interface EmulatorOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Wait before the first byte of every Bedrock answer (errors included). */
  firstByteDelayMs?: number;
  /** Wait between two consecutive content deltas. */
  chunkDelayMs?: number;
  /** Estimated input tokens above this answer "Input is too long for requested model.". */
  contextWindowTokens?: number;
}

export type BedrockOperation = "converse" | "converse-stream";

export interface ReportedUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  cacheReadInputTokens: number;
  cacheWriteInputTokens: number;
}

export interface RecordedCall {
  /** Also sent as `x-amzn-RequestId`. */
  id: string;
  operation: BedrockOperation;
  /** Decoded path segment, exactly as the client named the model. */
  modelId: string;
  /** From the SigV4 credential scope; undefined when the request was not SigV4-signed. */
  region: string | undefined;
  accessKeyId: string | undefined;
  sessionToken?: string;
  body: ConverseRequestBody;
  receivedAt: number;
  /** The client went away before the answer was complete. */
  aborted: boolean;
  /** When the emulator saw the client go away (ms epoch). */
  abortedAt?: number;
  /** The usage the emulator reported (absent for errors and aborted calls). */
  usage?: ReportedUsage;
  /** The emulator wrote its whole answer (success or error). */
  finished: boolean;
}

export type ScenarioContent =
  | { text: string }
  | { toolUse: { name: string; input: unknown; toolUseId?: string } }
  | { reasoning: { text: string } };

export interface Scenario {
  /** Answer this error before any byte of a success. */
  error?: { name: string; message?: string; status?: number; retryAfterSeconds?: number };
  content?: ScenarioContent[];
  stopReason?: string;
  usage?: Partial<ReportedUsage>;
  firstByteDelayMs?: number;
  chunkDelayMs?: number;
  /** How many deltas each text, reasoning and tool input is split into. */
  chunks?: number;
  /** After this many stream events, send an exception frame (camelCase or PascalCase name) and end. */
  midStreamError?: { afterEvents: number; name: string; message?: string };
  /** After this many stream events, drop the connection (HTTP/1.1) or reset the stream (HTTP/2). */
  dropAfterEvents?: number;
  /** Accept the request and never answer. */
  hang?: true;
}

export type ScenarioHandler = (call: RecordedCall) => Scenario | undefined;

export interface AssumeRoleCall {
  roleArn: string;
  roleSessionName: string;
  externalId?: string;
  durationSeconds?: number;
  /** The access key that signed the AssumeRole request. */
  callerAccessKeyId: string | undefined;
  /** Undefined when the call was refused. */
  issuedAccessKeyId: string | undefined;
  receivedAt: number;
}

export interface EmulatorTotals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheWriteInputTokens: number;
}

export interface ImdsControl {
  /** false answers 503 on every metadata path, as a broken or throttled IMDS would. */
  available: boolean;
  /** How many times the role credentials were fetched. */
  readonly credentialRequests: number;
}

export type RuntimeOptions = Required<Omit<EmulatorOptions, "host" | "port">>;

export interface Emulator {
  url: string;
  port: number;
  /**
   * Env that sends the unchanged SDK to this emulator. Variables that must be unset are blank here,
   * except AWS_BEARER_TOKEN_BEDROCK: the SDK switches to bearer auth when that name merely exists,
   * so it cannot be blanked. Use envFor/applyEnvTo, which also delete it.
   */
  env(): Record<string, string>;
  /** `base` with env() applied and AWS_BEARER_TOKEN_BEDROCK removed: for a child process. */
  envFor(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Applies env() to `target` in place (in-process SDK clients); returns a function that restores it. */
  applyEnvTo(target: NodeJS.ProcessEnv): () => void;
  /** The last 1000 Bedrock calls, oldest first. */
  calls: RecordedCall[];
  setHandler(handler: ScenarioHandler | undefined): void;
  setOptions(partial: Partial<RuntimeOptions>): void;
  /** Everything reported since start or the last reset, including calls that left the ring. */
  totals(): EmulatorTotals;
  assumeRoleCalls: AssumeRoleCall[];
  imds: ImdsControl;
  /** Connections accepted per protocol since start: shows whether a client spoke h2c or HTTP/1.1. */
  connections(): { http1: number; http2: number };
  failAssumeRole(roleArn: string, fail: boolean): void;
  /** Role sessions last this many seconds whatever the client asked (undefined: as asked). */
  setAssumeRoleSessionSeconds(seconds: number | undefined): void;
  /** Clears calls, totals, AssumeRole records and refusals, the handler and the prompt cache; IMDS is available again. */
  reset(): void;
  /** Closes every socket, hung requests and HTTP/2 sessions included. */
  close(): Promise<void>;
}
