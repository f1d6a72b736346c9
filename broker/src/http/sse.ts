// Server-sent events for streamed completions: each chunk is written (and so flushed) as soon as it
// exists, honouring back-pressure so a slow client cannot make the broker buffer without bound.
import type { Response } from "express";

export async function writeEvent(res: Response, data: unknown): Promise<void> {
  if (res.writableEnded || res.destroyed) return;
  const ok = res.write(`data: ${JSON.stringify(data)}\n\n`);
  if (!ok && !res.destroyed) await drainedOrClosed(res);
}

function drainedOrClosed(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

export function startEventStream(res: Response, headers: Record<string, string>): void {
  res.writeHead(200, {
    ...headers,
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    // Tell reverse proxies (nginx) not to buffer the stream.
    "x-accel-buffering": "no",
  });
  res.flushHeaders();
}

export function endEventStream(res: Response): void {
  if (res.writableEnded || res.destroyed) return;
  res.end("data: [DONE]\n\n");
}
