import { ConverseCommand } from "@aws-sdk/client-bedrock-runtime";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { IMDS_ROLE_NAME } from "./fake-imds.js";
import type { Harness } from "./sdk-harness.js";
import { SONNET_4, startHarness, userText } from "./sdk-harness.js";

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => harness.stop());
beforeEach(() => harness.emulator.reset());

const request = { modelId: SONNET_4, messages: [userText("Hi")] };
const ROLE_ARN = "arn:aws:iam::123456789012:role/tollgate-bedrock";

describe("the SDK's default credential chain", () => {
  it("reaches the fake IMDSv2 and signs with its credentials, fetched once per client", async () => {
    const client = harness.client("http2");
    await client.send(new ConverseCommand(request));
    await client.send(new ConverseCommand(request));
    const [first, second] = harness.emulator.calls;
    expect(first?.accessKeyId).toMatch(/^ASIAIMDS[A-Z2-7]{12}$/);
    expect(second?.accessKeyId).toBe(first?.accessKeyId);
    expect(first?.sessionToken).toBeTruthy();
    expect(harness.emulator.imds.credentialRequests).toBe(1);
  });

  it("fails the call when IMDS is unavailable", async () => {
    harness.emulator.imds.available = false;
    await expect(harness.client("http1").send(new ConverseCommand(request))).rejects.toThrow();
    expect(harness.emulator.calls).toHaveLength(0);
  });

  it("serves the IMDSv2 protocol: token first, then the role and its credentials", async () => {
    const base = harness.emulator.url;
    expect((await fetch(`${base}/latest/meta-data/iam/security-credentials/`)).status).toBe(401);
    expect((await fetch(`${base}/latest/api/token`, { method: "PUT" })).status).toBe(400);
    const token = await (
      await fetch(`${base}/latest/api/token`, { method: "PUT", headers: { "x-aws-ec2-metadata-token-ttl-seconds": "21600" } })
    ).text();
    const headers = { "x-aws-ec2-metadata-token": token };
    const role = await (await fetch(`${base}/latest/meta-data/iam/security-credentials/`, { headers })).text();
    expect(role).toBe(IMDS_ROLE_NAME);
    const credentials = (await (await fetch(`${base}/latest/meta-data/iam/security-credentials/${role}`, { headers })).json()) as Record<string, string>;
    expect(credentials).toMatchObject({ Code: "Success", Type: "AWS-HMAC" });
    expect(Date.parse(credentials.Expiration ?? "") - Date.now()).toBeGreaterThan(5 * 3600_000);
  });
});

describe("STS AssumeRole", () => {
  it("issues role credentials that the Bedrock call then carries", async () => {
    const credentials = fromTemporaryCredentials({
      params: { RoleArn: ROLE_ARN, RoleSessionName: "tollgate-test", ExternalId: "ext-1" },
    });
    const client = harness.client("http1", { credentials });
    await client.send(new ConverseCommand(request));
    const [assumed] = harness.emulator.assumeRoleCalls;
    expect(assumed).toMatchObject({ roleArn: ROLE_ARN, roleSessionName: "tollgate-test", externalId: "ext-1" });
    expect(assumed?.callerAccessKeyId).toMatch(/^ASIAIMDS/);
    expect(assumed?.issuedAccessKeyId).toMatch(/^ASIASTS123456789012/);
    expect(harness.emulator.calls[0]?.accessKeyId).toBe(assumed?.issuedAccessKeyId);
    expect(harness.emulator.calls[0]?.region).toBe("us-east-1");
  });

  it("refuses a role when told to, and the SDK reports AccessDenied", async () => {
    harness.emulator.failAssumeRole(ROLE_ARN, true);
    const credentials = fromTemporaryCredentials({ params: { RoleArn: ROLE_ARN, RoleSessionName: "refused" } });
    const error = await harness.client("http2", { credentials }).send(new ConverseCommand(request)).catch((caught: unknown) => caught);
    expect((error as Error).name).toBe("AccessDenied");
    expect((error as Error).message).toContain(ROLE_ARN);
    expect(harness.emulator.assumeRoleCalls[0]?.issuedAccessKeyId).toBeUndefined();
    expect(harness.emulator.calls).toHaveLength(0);
  });
});
