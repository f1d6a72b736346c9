// Where each exporter type sends, with which headers: Langfuse's and MLflow's OTLP endpoints and
// any OTLP/HTTP endpoint. Secrets are resolved here, on the broker host, from the policy's
// references (an environment variable, or a file only its owner may read).
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import type { ExporterEntry, SecretRef } from "@tollgate/shared";
import { readSecretFile } from "../fleet/secret-file.js";
import type { OtlpTarget, RequestSigner } from "./otlp-sender.js";

export class ExporterConfigError extends Error {
  override readonly name = "ExporterConfigError";
}

export const EXPORT_TIMEOUT_MS = 10_000;
const PROTOBUF = { "content-type": "application/x-protobuf" };

export interface SecretSource {
  env: NodeJS.ProcessEnv;
  readFile(path: string, what: string): string;
}

export const HOST_SECRETS: SecretSource = { env: process.env, readFile: readSecretFile };

function resolveSecret(ref: SecretRef, what: string, secrets: SecretSource): string {
  if ("env" in ref) {
    const value = secrets.env[ref.env]?.trim();
    if (!value) throw new ExporterConfigError(`${what}: environment variable ${ref.env} is not set on this broker host`);
    return value;
  }
  try {
    return secrets.readFile(ref.file, what);
  } catch (error) {
    throw new ExporterConfigError(error instanceof Error ? error.message : String(error));
  }
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/** SageMaker managed MLflow: SigV4 with the broker's credentials (instance role), service sagemaker-mlflow. */
function sigv4Signer(region: string): RequestSigner {
  const signer = new SignatureV4({ service: "sagemaker-mlflow", region, credentials: fromNodeProviderChain(), sha256: Hash.bind(null, "sha256") });
  return async (request) => {
    const url = new URL(request.url);
    const signed = await signer.sign({
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: {},
      headers: { ...request.headers, host: url.host },
      body: request.body,
    });
    const { host: _host, ...headers } = signed.headers;
    return headers;
  };
}

/** The SageMaker region in a tracking server's host name ("t-….us-east-1.experiments.sagemaker.aws"). */
function regionOfHost(host: string): string | undefined {
  return /\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.experiments\.sagemaker\.aws/.exec(host)?.[1];
}

export function targetFor(name: string, exporter: ExporterEntry, secrets: SecretSource = HOST_SECRETS): OtlpTarget {
  const what = `telemetry exporter "${name}"`;
  switch (exporter.type) {
    case "langfuse": {
      const secret = resolveSecret(exporter.secretKey, `${what} secretKey`, secrets);
      return {
        url: `${withoutTrailingSlash(exporter.host)}/api/public/otel/v1/traces`,
        headers: {
          ...PROTOBUF,
          authorization: `Basic ${Buffer.from(`${exporter.publicKey}:${secret}`).toString("base64")}`,
          // Without it, Langfuse may take about ten minutes to show the data.
          "x-langfuse-ingestion-version": "4",
        },
        timeoutMs: EXPORT_TIMEOUT_MS,
      };
    }
    case "mlflow": {
      const headers: Record<string, string> = { ...PROTOBUF, "x-mlflow-experiment-id": exporter.experimentId };
      const auth = exporter.auth ?? "none";
      let sign: RequestSigner | undefined;
      if (auth === "sigv4") {
        const region = exporter.region ?? regionOfHost(exporter.host) ?? secrets.env.AWS_REGION ?? secrets.env.AWS_DEFAULT_REGION;
        if (!region) throw new ExporterConfigError(`${what}: sigv4 needs a region (set "region", or AWS_REGION on the broker host)`);
        sign = sigv4Signer(region);
      } else if (auth !== "none") {
        headers.authorization = `Bearer ${resolveSecret(auth.bearer, `${what} auth.bearer`, secrets)}`;
      }
      return { url: `${withoutTrailingSlash(exporter.host)}/v1/traces`, headers, sign, timeoutMs: EXPORT_TIMEOUT_MS };
    }
    case "otlp": {
      const headers: Record<string, string> = { ...PROTOBUF };
      for (const [header, value] of Object.entries(exporter.headers ?? {})) {
        headers[header.toLowerCase()] = typeof value === "string" ? value : resolveSecret(value, `${what} header ${header}`, secrets);
      }
      return { url: exporter.endpoint, headers, timeoutMs: EXPORT_TIMEOUT_MS };
    }
  }
}
