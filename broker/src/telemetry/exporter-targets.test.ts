import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { readSecretFile } from "../fleet/secret-file.js";
import { ExporterConfigError, targetFor, type SecretSource } from "./exporter-targets.js";

const secrets = (env: Record<string, string>): SecretSource => ({ env, readFile: readSecretFile });

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("exporter targets", () => {
  it("Langfuse: its OTLP path under the host, Basic auth of public:secret, ingestion version 4", () => {
    const target = targetFor("lf", { type: "langfuse", host: "https://langfuse.internal/", publicKey: "pk-lf-1", secretKey: { env: "LF_SECRET" } }, secrets({ LF_SECRET: "sk-lf-2" }));
    expect(target.url).toBe("https://langfuse.internal/api/public/otel/v1/traces");
    expect(target.headers).toMatchObject({ authorization: `Basic ${Buffer.from("pk-lf-1:sk-lf-2").toString("base64")}`, "x-langfuse-ingestion-version": "4", "content-type": "application/x-protobuf" });
  });

  it("a secret that does not resolve names the exporter and what to fix", () => {
    expect(() => targetFor("lf", { type: "langfuse", host: "https://x", publicKey: "pk", secretKey: { env: "MISSING" } }, secrets({}))).toThrow(
      new ExporterConfigError('telemetry exporter "lf" secretKey: environment variable MISSING is not set on this broker host'),
    );
    const dir = mkdtempSync(join(tmpdir(), "tg-secret-"));
    const file = join(dir, "token");
    writeFileSync(file, "s3cret\n", { mode: 0o644 });
    expect(() => targetFor("ml", { type: "mlflow", host: "https://m", experimentId: "1", auth: { bearer: { file } } }, secrets({}))).toThrow(/may be read by other users \(mode 644\); chmod 600 it/);
    writeFileSync(file, "s3cret\n", { mode: 0o600 });
    chmodSync(file, 0o600);
    expect(targetFor("ml", { type: "mlflow", host: "https://m", experimentId: "1", auth: { bearer: { file } } }, secrets({})).headers.authorization).toBe("Bearer s3cret");
  });

  it("OTLP: the endpoint as given, plain and referenced header values", () => {
    const target = targetFor("c", { type: "otlp", endpoint: "http://127.0.0.1:4318/v1/traces", headers: { "X-Scope": "org-1", "DD-API-KEY": { env: "DD" } } }, secrets({ DD: "k" }));
    expect(target.url).toBe("http://127.0.0.1:4318/v1/traces");
    expect(target.headers).toMatchObject({ "x-scope": "org-1", "dd-api-key": "k" });
  });

  it("SageMaker MLflow: SigV4 for service sagemaker-mlflow in the host's region, over the body", async () => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    vi.stubEnv("AWS_SESSION_TOKEN", "");
    const target = targetFor("ml", { type: "mlflow", host: "https://t-abc.eu-west-1.experiments.sagemaker.aws", experimentId: "7", auth: "sigv4" }, secrets({}));
    expect(target.url).toBe("https://t-abc.eu-west-1.experiments.sagemaker.aws/v1/traces");
    const body = new Uint8Array([1, 2, 3]);
    const signed = await target.sign!({ url: target.url, headers: { ...target.headers }, body });
    expect(signed.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/sagemaker-mlflow\/aws4_request, SignedHeaders=[^,]*x-mlflow-experiment-id[^,]*, Signature=[0-9a-f]{64}$/);
    expect(signed["x-amz-date"]).toMatch(/^\d{8}T\d{6}Z$/);
    const other = await target.sign!({ url: target.url, headers: { ...target.headers }, body: new Uint8Array([9]) });
    expect(other.authorization).not.toBe(signed.authorization); // the body is signed
  });

  it("sigv4 without a region anywhere is refused with the fix", () => {
    expect(() => targetFor("ml", { type: "mlflow", host: "https://mlflow.internal", experimentId: "1", auth: "sigv4" }, secrets({}))).toThrow(/sigv4 needs a region/);
  });
});
