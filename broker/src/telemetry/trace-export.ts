// The exporters the policy names, kept in step with it: a push that adds, changes or removes an
// exporter takes effect on every broker at once; an unchanged exporter keeps its queue. Requests
// hand their trace to `record`, which only enqueues.
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes, type Resource } from "@opentelemetry/resources";
import type { ExporterEntry, TelemetryEntry } from "@tollgate/shared";
import type { Logger } from "../log.js";
import { DEFAULT_MAX_CONTENT_CHARS } from "./capture-content.js";
import { DEFAULT_EXPORT_QUEUE, SpanExportQueue, type DropReason, type ExportQueueOptions } from "./export-queue.js";
import { HOST_SECRETS, targetFor, type SecretSource } from "./exporter-targets.js";
import { GENERAL } from "./genai-attributes.js";
import { sendOtlp, type OtlpTarget } from "./otlp-sender.js";
import type { RequestTrace } from "./request-trace.js";
import { newTraceIds, requestSpans, type TraceIds } from "./spans.js";

/** What the metrics count about each exporter. */
export interface ExportObserver {
  exported(exporter: string, spans: number): void;
  dropped(exporter: string, spans: number, reason: DropReason): void;
}

const DROP_LOG_INTERVAL_MS = 30_000;

export interface ExporterStatus {
  name: string;
  type: ExporterEntry["type"];
  enabled: boolean;
  /** Why it sends nothing (a secret that doesn't resolve, …). */
  error: string | undefined;
  queued: number;
  lastFailure: string | undefined;
}

interface ActiveExporter {
  name: string;
  entry: ExporterEntry;
  /** The entry as JSON: an unchanged one keeps its queue across pushes. */
  fingerprint: string;
  queue: SpanExportQueue | undefined;
  error: string | undefined;
  lastFailure: string | undefined;
}

export interface TraceExportOptions {
  logger: Logger;
  serviceVersion: string;
  instanceId: string;
  observer?: ExportObserver | undefined;
  secrets?: SecretSource | undefined;
  queue?: Partial<ExportQueueOptions> | undefined;
}

export class TraceExport {
  private exporters = new Map<string, ActiveExporter>();
  private readonly resource: Resource;
  private observer: ExportObserver | undefined;

  constructor(private readonly options: TraceExportOptions) {
    this.resource = resourceFromAttributes({
      [GENERAL.serviceName]: "tollgate-broker",
      [GENERAL.serviceVersion]: options.serviceVersion,
      [GENERAL.serviceInstanceId]: options.instanceId,
    });
  }

  /** Who counts exported and dropped spans (set before `configure`). */
  setObserver(observer: ExportObserver): void {
    this.observer = observer;
  }

  /** Applies the policy's telemetry section; exporters no longer named are flushed and closed. */
  configure(telemetry: TelemetryEntry | undefined): void {
    const next = new Map<string, ActiveExporter>();
    for (const [name, entry] of Object.entries(telemetry?.exporters ?? {})) {
      const fingerprint = JSON.stringify(entry);
      const current = this.exporters.get(name);
      if (current && current.fingerprint === fingerprint) {
        next.set(name, current);
        continue;
      }
      next.set(name, this.open(name, entry, fingerprint));
    }
    for (const [name, old] of this.exporters) {
      if (next.get(name) !== old) void old.queue?.close(2000);
    }
    this.exporters = next;
  }

  private open(name: string, entry: ExporterEntry, fingerprint: string): ActiveExporter {
    const active: ActiveExporter = { name, entry, fingerprint, queue: undefined, error: undefined, lastFailure: undefined };
    if (entry.enabled === false) return active;
    let target: OtlpTarget;
    try {
      target = targetFor(name, entry, this.options.secrets ?? HOST_SECRETS);
    } catch (error) {
      active.error = error instanceof Error ? error.message : String(error);
      this.options.logger.error({ exporter: name }, `${active.error}; this exporter sends nothing until the policy or the host is fixed`);
      return active;
    }
    const observer = this.observer ?? this.options.observer;
    let failing = false;
    let lastDropLog = 0;
    let unlogged: Partial<Record<DropReason, number>> = {};
    active.queue = new SpanExportQueue(
      (spans) => sendOtlp(target, ProtobufTraceSerializer.serializeRequest(spans) ?? new Uint8Array()),
      {
        exported: (count) => {
          if (failing) this.options.logger.info({ exporter: name }, "trace export recovered");
          failing = false;
          observer?.exported(name, count);
        },
        dropped: (count, reason) => {
          observer?.dropped(name, count, reason);
          // A backend down for long drops spans with every request: one log line per interval, with the count.
          unlogged[reason] = (unlogged[reason] ?? 0) + count;
          const now = Date.now();
          if (now - lastDropLog < DROP_LOG_INTERVAL_MS) return;
          lastDropLog = now;
          this.options.logger.warn({ exporter: name, spans: { ...unlogged } }, "trace spans dropped (counted in tollgate_trace_spans_dropped_total)");
          unlogged = {};
        },
        failed: (reason) => {
          active.lastFailure = `${new Date().toISOString()} ${reason}`;
          // Once per outage, not per retry.
          if (!failing) this.options.logger.warn({ exporter: name, reason, url: target.url }, "trace export failed; retrying with backoff");
          failing = true;
        },
      },
      { ...DEFAULT_EXPORT_QUEUE, ...this.options.queue },
    );
    return active;
  }

  /** Does any exporter take prompt text for this team? Then the request captures it. */
  capturesContent(team: string): boolean {
    for (const exporter of this.exporters.values()) if (exporter.queue && capturesFor(exporter.entry, team)) return true;
    return false;
  }

  /** Never waits, never throws: the trace is queued per exporter, and built into spans when sent. */
  record(trace: RequestTrace): void {
    let ids: TraceIds | undefined;
    const count = trace.attempts.length + 1;
    for (const exporter of this.exporters.values()) {
      const queue = exporter.queue;
      if (!queue) continue;
      if (!queue.hasRoom(count)) {
        queue.enqueue({ count, build: () => [] }); // counted as dropped, never built
        continue;
      }
      ids ??= newTraceIds(trace.attempts.length);
      const traceIds = ids;
      const content = capturesFor(exporter.entry, trace.team) ? (exporter.entry.content?.maxChars ?? DEFAULT_MAX_CONTENT_CHARS) : undefined;
      const options = { resource: this.resource, langfuse: exporter.entry.type === "langfuse", contentMaxChars: content };
      queue.enqueue({ count, build: () => requestSpans(trace, options, traceIds) });
    }
  }

  status(): ExporterStatus[] {
    return [...this.exporters.values()].map((exporter) => ({
      name: exporter.name,
      type: exporter.entry.type,
      enabled: exporter.entry.enabled !== false,
      error: exporter.error,
      queued: exporter.queue?.depth ?? 0,
      lastFailure: exporter.lastFailure,
    }));
  }

  /** Sends what is queued, each exporter for up to `deadlineMs`. */
  async close(deadlineMs = 5000): Promise<void> {
    await Promise.all([...this.exporters.values()].map((exporter) => exporter.queue?.close(deadlineMs) ?? Promise.resolve()));
  }
}

function capturesFor(entry: ExporterEntry, team: string): boolean {
  const teams = entry.content?.teams;
  return teams !== undefined && (teams.includes("*") || teams.includes(team));
}
