// One Bedrock Runtime client per region, created on first use and reused for every request: a
// client owns its connection pool, signer and credential cache, so building one per request would
// redo the TLS handshake and the credential lookup each time.
//
// HTTP/1.1 with keep-alive, not the SDK's default HTTP/2 handler: measured on the 2-core target the
// HTTP/2 handler doubled the SDK's per-call cost (0.74 → 1.52 ms p50) and cut throughput by 40%
// (../shared/notes/bedrock-emulator.md). `bench/` compares both.
//
// A deployment with a role gets its own client whose credentials come from STS AssumeRole, called
// with the broker's own credentials (the default chain: the instance role on EC2). The SDK caches
// the assumed credentials in the client and refreshes them before they expire.
import { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import type { Deployment } from "@tollgate/shared";
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

/** Assumed-role sessions last an hour; the SDK refreshes them a few minutes before they end. */
const ROLE_SESSION_SECONDS = 3600;

type Role = NonNullable<Deployment["role"]>;

export class BedrockClientPool {
  private readonly clients = new Map<string, BedrockRuntimeClient>();

  constructor(private readonly options: BedrockClientOptions = DEFAULT_BEDROCK_CLIENT_OPTIONS) {}

  /** The client for a deployment's region and credentials (its role, or the broker's own). */
  forDeployment(deployment: Pick<Deployment, "region" | "role">): BedrockRuntimeClient {
    const role = deployment.role;
    const key = role ? `${deployment.region}|${role.arn}|${role.externalId ?? ""}|${role.sessionName}` : deployment.region;
    let client = this.clients.get(key);
    if (!client) {
      client = this.create(deployment.region, role);
      this.clients.set(key, client);
    }
    return client;
  }

  forRegion(region: string): BedrockRuntimeClient {
    return this.forDeployment({ region });
  }

  /** Resolves the broker's own credentials (cached by the client), for readiness checks. */
  async ownCredentials(region: string): Promise<void> {
    await this.forRegion(region).config.credentials();
  }

  private create(region: string, role: Role | undefined): BedrockRuntimeClient {
    return new BedrockRuntimeClient({
      region,
      maxAttempts: this.options.maxAttempts,
      ...(role
        ? {
            credentials: fromTemporaryCredentials({
              params: {
                RoleArn: role.arn,
                RoleSessionName: role.sessionName,
                DurationSeconds: ROLE_SESSION_SECONDS,
                ...(role.externalId === undefined ? {} : { ExternalId: role.externalId }),
              },
              // Regional STS: no dependency on us-east-1 for a deployment in another region.
              clientConfig: { region },
            }),
          }
        : {}),
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
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }
}
