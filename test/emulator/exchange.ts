// One request/response pair, the same whether it came over HTTP/1.1 or HTTP/2, so the routes
// never care which protocol the client picked.

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import type { Readable, Writable } from "node:stream";

/** What http.ServerResponse and http2's compat Http2ServerResponse have in common. */
export type CompatResponse = Writable & {
  writeHead(statusCode: number, headers: OutgoingHttpHeaders): unknown;
};

export type CompatRequest = Readable & {
  method?: string | undefined;
  url?: string | undefined;
  headers: IncomingHttpHeaders;
};

const MAX_BODY_BYTES = 64 * 1024 * 1024;

export class Exchange {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** Aborted when the client leaves (or the emulator closes) before the answer was complete. */
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private ended = false;

  constructor(
    private readonly request: CompatRequest,
    private readonly response: CompatResponse,
    /** Cuts the transport under this response: socket for HTTP/1.1, stream reset for HTTP/2. */
    private readonly dropTransport: () => void,
  ) {
    this.method = request.method ?? "GET";
    this.path = request.url ?? "/";
    this.headers = request.headers;
    this.signal = this.controller.signal;
    response.once("close", () => {
      if (!this.ended) this.controller.abort();
    });
    // A reset stream or socket surfaces as an error here; 'close' already covers it.
    response.on("error", () => undefined);
    request.on("error", () => undefined);
  }

  header(name: string): string | undefined {
    const value = this.headers[name];
    return Array.isArray(value) ? value[0] : value;
  }

  /** Events rather than `for await`: cheaper per request, and benchmarks send thousands a second. */
  readBody(): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      this.request.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          this.request.destroy();
          reject(new Error("request body too large"));
        } else chunks.push(chunk);
      });
      this.request.once("end", () => resolve(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks)));
      this.request.once("close", () => reject(new Error("request closed before its body ended")));
    });
  }

  get open(): boolean {
    return !this.ended && !this.signal.aborted;
  }

  respond(status: number, headers: OutgoingHttpHeaders, body: string | Buffer): void {
    if (!this.open) return;
    const payload = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    this.response.writeHead(status, { ...headers, "content-length": payload.length });
    this.ended = true;
    this.response.end(payload);
  }

  beginStream(status: number, headers: OutgoingHttpHeaders): void {
    if (this.open) this.response.writeHead(status, headers);
  }

  write(chunk: Uint8Array): void {
    if (this.open) this.response.write(chunk);
  }

  end(): void {
    if (!this.open) return;
    this.ended = true;
    this.response.end();
  }

  /** Cuts the connection without completing the answer, as a network failure would. */
  drop(): void {
    if (!this.open) return;
    this.ended = true;
    this.dropTransport();
  }
}
