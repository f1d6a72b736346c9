// A real OTLP/HTTP traces receiver for tests, standing in for Langfuse and MLflow at their paths:
// it decodes each export with the official OpenTelemetry protocol definitions (protobufjs code
// generated from opentelemetry-proto, as shipped by @opentelemetry/otlp-proto-exporter-base) and
// keeps the requests' headers. It can also answer 500 or never answer, to play a broken backend.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const root = require("@opentelemetry/otlp-proto-exporter-base/build/src/generated/root.js") as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: { decode(bytes: Uint8Array): unknown; toObject(message: unknown, options: object): unknown } } } } } };
};
const ExportTraceServiceRequest = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

type AnyValue = { stringValue?: string; intValue?: string; doubleValue?: number; boolValue?: boolean; arrayValue?: { values?: AnyValue[] } };
type KeyValue = { key: string; value: AnyValue };

export type AttributeValue = string | number | boolean | AttributeValue[];

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** OTLP's enum: 3 = CLIENT. */
  kind: number;
  startNanos: bigint;
  endNanos: bigint;
  statusCode: number;
  attributes: Record<string, AttributeValue>;
  resource: Record<string, AttributeValue>;
}

export interface ReceivedExport {
  path: string;
  headers: IncomingHttpHeaders;
  readonly spans: ReceivedSpan[];
}

function valueOf(value: AnyValue): AttributeValue {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(valueOf);
  return "";
}

function attributesOf(list: KeyValue[] | undefined): Record<string, AttributeValue> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, valueOf(value)]));
}

function decode(bytes: Uint8Array): ReceivedSpan[] {
  const message = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(bytes), { longs: String, bytes: String, defaults: false }) as {
    resourceSpans?: Array<{ resource?: { attributes?: KeyValue[] }; scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }> }>;
  };
  const hex = (base64: unknown): string => Buffer.from(String(base64 ?? ""), "base64").toString("hex");
  return (message.resourceSpans ?? []).flatMap((resourceSpans) =>
    (resourceSpans.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({
        traceId: hex(span.traceId),
        spanId: hex(span.spanId),
        parentSpanId: span.parentSpanId ? hex(span.parentSpanId) : undefined,
        name: String(span.name),
        kind: Number(span.kind ?? 0),
        startNanos: BigInt(String(span.startTimeUnixNano)),
        endNanos: BigInt(String(span.endTimeUnixNano)),
        statusCode: Number((span.status as { code?: number } | undefined)?.code ?? 0),
        attributes: attributesOf(span.attributes as KeyValue[] | undefined),
        resource: attributesOf(resourceSpans.resource?.attributes),
      })),
    ),
  );
}

export type ReceiverMode = "ok" | "error-500" | "hang";

export interface OtlpReceiver {
  url: string;
  exports: ReceivedExport[];
  /** Every span received so far, in arrival order. */
  spans(): ReceivedSpan[];
  /** Requests that reached it in any mode (hung ones included). */
  hits: number;
  mode: ReceiverMode;
  /** Resolves once `predicate` holds for the received spans (polling), or rejects after `timeoutMs`. */
  waitFor(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(mode: ReceiverMode = "ok"): Promise<OtlpReceiver> {
  const hung: ServerResponse[] = [];
  const receiver: OtlpReceiver = {
    url: "",
    exports: [],
    spans: () => receiver.exports.flatMap((received) => received.spans),
    hits: 0,
    mode,
    async waitFor(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const spans = receiver.spans();
        if (predicate(spans)) return spans;
        if (Date.now() > deadline) throw new Error(`the receiver did not get the expected spans in ${timeoutMs} ms (has ${spans.length})`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close: async () => {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      receiver.hits++;
      if (receiver.mode === "hang") {
        hung.push(res);
        return;
      }
      if (receiver.mode === "error-500") {
        res.writeHead(500).end("boom");
        return;
      }
      if (req.headers["content-type"] !== "application/x-protobuf") {
        res.writeHead(415).end("protobuf only");
        return;
      }
      // Decoded when first read, so a receiver under load (the benchmark's) costs its process little.
      const body = Buffer.concat(chunks);
      let decoded: ReceivedSpan[] | undefined;
      receiver.exports.push({
        path: req.url ?? "",
        headers: req.headers,
        get spans() {
          return (decoded ??= decode(body));
        },
      });
      res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}
