// The Bedrock adapter: Converse and ConverseStream through the AWS SDK, cancellable with an
// AbortSignal, streaming as an async iterator. Nothing here knows about HTTP or OpenAI.
import {
  ConverseCommand,
  ConverseStreamCommand,
  type ConverseCommandOutput,
  type ConverseStreamOutput,
} from "@aws-sdk/client-bedrock-runtime";
import type { Deployment } from "@tollgate/shared";
import type { BedrockClientPool } from "./client-pool.js";
import type { ConverseBody } from "./request/index.js";

export class BedrockUpstream {
  constructor(private readonly clients: BedrockClientPool) {}

  converse(deployment: Deployment, body: ConverseBody, signal: AbortSignal): Promise<ConverseCommandOutput> {
    const client = this.clients.forDeployment(deployment);
    return client.send(new ConverseCommand({ ...body, modelId: deployment.modelId }), { abortSignal: signal });
  }

  /** Resolves once Bedrock has accepted the call (HTTP 200); errors before that reject here. */
  async openStream(deployment: Deployment, body: ConverseBody, signal: AbortSignal): Promise<AsyncIterable<ConverseStreamOutput>> {
    const client = this.clients.forDeployment(deployment);
    const response = await client.send(new ConverseStreamCommand({ ...body, modelId: deployment.modelId }), { abortSignal: signal });
    if (!response.stream) throw new Error("Bedrock answered ConverseStream without an event stream");
    return response.stream;
  }

  /** Whether the broker's own AWS credentials can be obtained (for /readyz). */
  checkCredentials(region: string): Promise<void> {
    return this.clients.ownCredentials(region);
  }

  destroy(): void {
    this.clients.destroy();
  }
}
