// One Bedrock Runtime client per region, created on first use and reused for every request: a
// client owns its connection pool, signer and credential cache, so building one per request would
// redo the TLS handshake and the credential lookup each time.
//
// HTTP/1.1 with keep-alive, not the SDK's default HTTP/2 handler: measured on the 2-core target the
// HTTP/2 handler doubled the SDK's per-call cost (0.74 → 1.52 ms p50) and cut throughput by 40%
// (../shared/notes/bedrock-emulator.md). `bench/` compares both.
import { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";

export interface BedrockClientOptions {
  /** "1.1" (default) or "2" for the SDK's own HTTP/2 handler. */
  httpVersion: "1.1" | "2";
  /** SDK attempts per call. 1: the broker answers 429 with retry-after itself (clients retry), and
   *  later falls back across deployments; SDK retries would only add hidden waiting. */
  maxAttempts: number;
  /** Milliseconds a socket may stay silent before the call fails (long thinking pauses are normal). */
  idleTimeoutMs: number;
  maxSockets: number;
}

export const DEFAULT_BEDROCK_CLIENT_OPTIONS: BedrockClientOptions = {
  httpVersion: "1.1",
  maxAttempts: 1,
  idleTimeoutMs: 300_000,
  maxSockets: 512,
};

export class BedrockClientPool {
  private readonly clients = new Map<string, BedrockRuntimeClient>();

  constructor(private readonly options: BedrockClientOptions = DEFAULT_BEDROCK_CLIENT_OPTIONS) {}

  forRegion(region: string): BedrockRuntimeClient {
    let client = this.clients.get(region);
    if (!client) {
      client = new BedrockRuntimeClient({
        region,
        maxAttempts: this.options.maxAttempts,
        ...(this.options.httpVersion === "1.1"
          ? {
              requestHandler: new NodeHttpHandler({
                httpAgent: new HttpAgent({ keepAlive: true, maxSockets: this.options.maxSockets }),
                httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: this.options.maxSockets }),
                requestTimeout: this.options.idleTimeoutMs,
              }),
            }
          : {}),
      });
      this.clients.set(region, client);
    }
    return client;
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }
}
