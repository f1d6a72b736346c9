// Rendering a decided answer on the wire: a Bedrock error, a Converse JSON body, or a
// ConverseStream written event by event with its pacing and injected faults.

import { BedrockError, defaultErrorMessage, errorShapeName, errorTypeHeader, streamExceptionType } from "./bedrock-errors.js";
import type { CallLog } from "./call-log.js";
import { eventFrame, exceptionFrame } from "./event-stream-frames.js";
import type { Exchange } from "./exchange.js";
import { pause } from "./pause.js";
import type { ReplyPlan } from "./reply-plan.js";
import { messageContent } from "./reply-plan.js";
import { deltaCount, streamEvents } from "./stream-events.js";
import type { RecordedCall } from "./types.js";

export function sendError(exchange: Exchange, call: RecordedCall, error: BedrockError): void {
  if (!exchange.open) return;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-amzn-errortype": errorTypeHeader(error.errorName),
    "x-amzn-requestid": call.id,
  };
  if (error.retryAfterSeconds !== undefined) headers["retry-after"] = String(error.retryAfterSeconds);
  exchange.respond(error.status, headers, JSON.stringify({ message: error.message }));
  call.finished = true;
}

export async function sendConverse(exchange: Exchange, call: RecordedCall, plan: ReplyPlan, log: CallLog): Promise<void> {
  // The whole answer arrives when the equivalent stream would have finished.
  const generation = plan.firstByteDelayMs + Math.max(0, deltaCount(plan) - 1) * plan.chunkDelayMs;
  if (!(await pause(generation, exchange.signal))) return;
  if (plan.dropAfterEvents !== undefined) return exchange.drop();
  if (plan.midStreamError !== undefined) {
    const name = errorShapeName(plan.midStreamError.name);
    const message = plan.midStreamError.message ?? defaultErrorMessage(name);
    return sendError(exchange, call, new BedrockError(name, message));
  }
  if (!exchange.open) return;
  log.reportUsage(call, plan.usage);
  const body = {
    output: { message: { role: "assistant", content: messageContent(plan.blocks) } },
    stopReason: plan.stopReason,
    usage: plan.usage,
    metrics: { latencyMs: Date.now() - call.receivedAt },
  };
  exchange.respond(200, { "content-type": "application/json", "x-amzn-requestid": call.id }, JSON.stringify(body));
  call.finished = true;
}

export async function sendStream(exchange: Exchange, call: RecordedCall, plan: ReplyPlan, log: CallLog): Promise<void> {
  if (!(await pause(plan.firstByteDelayMs, exchange.signal))) return;
  exchange.beginStream(200, { "content-type": "application/vnd.amazon.eventstream", "x-amzn-requestid": call.id });
  let written = 0;
  /** Writes one event unless a fault is due first; false when the stream is over. */
  const emit = (type: string, payload: () => Record<string, unknown>): boolean => {
    if (!exchange.open) return false;
    if (plan.dropAfterEvents !== undefined && written >= plan.dropAfterEvents) {
      exchange.drop();
      return false;
    }
    const fault = plan.midStreamError;
    if (fault !== undefined && written >= fault.afterEvents) {
      const message = fault.message ?? defaultErrorMessage(errorShapeName(fault.name));
      exchange.write(exceptionFrame(streamExceptionType(fault.name), message));
      exchange.end();
      call.finished = true;
      return false;
    }
    exchange.write(eventFrame(type, payload()));
    written += 1;
    return true;
  };

  let deltasSent = 0;
  for (const event of streamEvents(plan)) {
    if (event.type === "contentBlockDelta") {
      if (deltasSent > 0 && !(await pause(plan.chunkDelayMs, exchange.signal))) return;
      deltasSent += 1;
    }
    if (!emit(event.type, () => event.payload)) return;
  }
  const metadata = (): Record<string, unknown> => {
    log.reportUsage(call, plan.usage);
    return { usage: plan.usage, metrics: { latencyMs: Date.now() - call.receivedAt } };
  };
  if (!emit("metadata", metadata)) return;
  exchange.end();
  call.finished = true;
}
