// The policy's `telemetry` section: where the broker exports a trace of every request (Langfuse,
// MLflow, any OTLP/HTTP endpoint) and what its Prometheus metrics label. Secrets are named, never
// written here: the policy is pushed around, stored in PostgreSQL and diffed in the console.
import { z } from "zod";
import { TEAM_NAME_PATTERN } from "./access-schema.js";

export const EXPORTER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** Environment variable names as POSIX shells accept them. */
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const secretRefSchema = z
  .union([
    z.strictObject({ env: z.string().regex(ENV_NAME_PATTERN, { error: "must be an environment variable name" }).describe("Environment variable of the broker's process that holds the secret.") }),
    z.strictObject({ file: z.string().regex(/^\//, { error: "must be an absolute path" }).describe("File on the broker host holding the secret; refused unless mode 0600 or 0400.") }),
  ])
  .describe('A secret by reference: {"env": "NAME"} or {"file": "/etc/tollgate/…"}, resolved on each broker host.');

const httpUrl = (what: string) =>
  z
    .string()
    .regex(/^https?:\/\/[^\s/?#]+(?:\/[^\s?#]*)?$/, { error: "must be an http:// or https:// URL without query or fragment" })
    .describe(what);

export const contentCaptureSchema = z
  .strictObject({
    teams: z
      .array(z.union([z.literal("*"), z.string().regex(TEAM_NAME_PATTERN, { error: "must be a team name" })]))
      .min(1, { error: "must name at least one team (or \"*\")" })
      .describe('Teams whose prompts and completions this exporter receives; ["*"] for every team.'),
    maxChars: z
      .number()
      .int({ error: "must be a whole number" })
      .min(256, { error: "must be at least 256" })
      .max(1_000_000, { error: "must be at most 1000000" })
      .optional()
      .describe("Longest prompt or completion attached, in characters (the rest is cut, and the span says so). Default 20000."),
  })
  .describe(
    "Attach prompt and completion text (gen_ai.input.messages, gen_ai.output.messages, gen_ai.system_instructions) " +
      "for these teams, with secrets redacted. Off unless set.",
  );

const common = {
  enabled: z.boolean().optional().describe("false: keep the exporter's settings but send nothing. Default true."),
  content: contentCaptureSchema.optional(),
};

export const langfuseExporterSchema = z
  .strictObject({
    type: z.literal("langfuse"),
    host: httpUrl('Langfuse\'s base URL, e.g. "https://cloud.langfuse.com" or a self-hosted one (≥ 3.22); traces go to {host}/api/public/otel/v1/traces.'),
    publicKey: z.string().min(1, { error: "must not be empty" }).describe('The project\'s public key ("pk-lf-…"); not a secret.'),
    secretKey: secretRefSchema.describe("The project's secret key (\"sk-lf-…\"), by reference."),
    ...common,
  })
  .describe("Langfuse over its OpenTelemetry endpoint, with user and session on every span.");

export const mlflowExporterSchema = z
  .strictObject({
    type: z.literal("mlflow"),
    host: httpUrl('The MLflow tracking server (≥ 3.6), e.g. "https://mlflow.internal:5000"; traces go to {host}/v1/traces.'),
    experimentId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: "must be an MLflow experiment id" }).describe("The experiment traces are logged to (header x-mlflow-experiment-id)."),
    auth: z
      .union([
        z.literal("none"),
        z.literal("sigv4"),
        z.strictObject({ bearer: secretRefSchema.describe("A token sent as Authorization: Bearer, by reference.") }),
      ])
      .optional()
      .describe('"sigv4": signed with the broker\'s AWS credentials (SageMaker managed MLflow, service sagemaker); {"bearer": …}: a token; default "none".'),
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { error: 'must be an AWS region such as "us-east-1"' }).optional().describe("Region of a SageMaker tracking server, for sigv4. Default: from the host name, else AWS_REGION."),
    ...common,
  })
  .describe("MLflow's OTLP endpoint (a self-hosted server or SageMaker managed MLflow).");

export const otlpExporterSchema = z
  .strictObject({
    type: z.literal("otlp"),
    endpoint: httpUrl('Full OTLP/HTTP traces URL, e.g. "http://127.0.0.1:4318/v1/traces" (an OpenTelemetry Collector, Grafana, Datadog, X-Ray via the collector).'),
    headers: z
      .record(z.string().regex(/^[A-Za-z0-9-]{1,128}$/, { error: "must be an HTTP header name" }), z.union([z.string(), secretRefSchema]))
      .optional()
      .describe("Headers sent with every export; a value is plain text or a secret by reference."),
    ...common,
  })
  .describe("Any OTLP/HTTP (protobuf) traces endpoint.");

export const exporterSchema = z.discriminatedUnion("type", [langfuseExporterSchema, mlflowExporterSchema, otlpExporterSchema], {
  error: 'type must be "langfuse", "mlflow" or "otlp"',
}).describe('One destination for traces: its "type" says which fields apply.');

export const telemetrySchema = z
  .strictObject({
    exporters: z
      .record(z.string().regex(EXPORTER_NAME_PATTERN, { error: "exporter name must be 1-64 letters, digits, '_' or '-'" }), exporterSchema)
      .optional()
      .describe("Where every broker sends a trace of each request, keyed by a name you choose (it labels the export metrics)."),
    metrics: z
      .strictObject({
        userLabel: z.boolean().optional().describe("Label request, token and cost metrics by user as well (one series per user: mind Prometheus' cardinality). Default false."),
      })
      .optional()
      .describe("What the Prometheus metrics carry as labels."),
  })
  .describe("Traces to Langfuse, MLflow or any OTLP endpoint, and what /metrics labels.");

export type SecretRef = z.output<typeof secretRefSchema>;
export type ExporterEntry = z.output<typeof exporterSchema>;
export type TelemetryEntry = z.output<typeof telemetrySchema>;
export type ContentCapture = z.output<typeof contentCaptureSchema>;
