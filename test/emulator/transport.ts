// One TCP port for every client: the SDK's default Bedrock handler speaks cleartext HTTP/2 with
// prior knowledge, while IMDS, STS and NodeHttpHandler speak HTTP/1.1. The first bytes decide.

import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { Writable } from "node:stream";
import type { CompatRequest, CompatResponse } from "./exchange.js";
import { Exchange } from "./exchange.js";

// The HTTP/2 client preface starts with "PRI * HTTP/2.0"; no HTTP/1.1 method starts with "PRI".
const H2_PREFACE_START = Buffer.from("PRI ", "latin1");

export interface ConnectionCounts {
  http1: number;
  http2: number;
}

export interface Transport {
  port: number;
  /** Connections accepted so far per protocol: proves which handler a client really used. */
  connections: ConnectionCounts;
  close(): Promise<void>;
}

export async function listen(host: string, port: number, route: (exchange: Exchange) => void): Promise<Transport> {
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const connections: ConnectionCounts = { http1: 0, http2: 0 };

  const h1 = http.createServer({ keepAliveTimeout: 65_000, headersTimeout: 70_000, requestTimeout: 0 }, (req, res) => {
    route(new Exchange(req, res, () => afterFlush(req.socket, () => req.socket.destroy())));
  });
  h1.on("clientError", (_error, socket) => socket.destroy());

  // Benchmarks multiplex many streams on few sessions; the 10 MB default can refuse streams.
  const h2 = http2.createServer({ maxSessionMemory: 100 }, (req, res) => {
    route(new Exchange(req as CompatRequest, res as CompatResponse, () => {
      afterFlush(res.stream, () => res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    }));
  });
  h2.on("session", (session) => {
    sessions.add(session);
    session.on("error", () => undefined);
    session.once("close", () => sessions.delete(session));
  });
  h2.on("sessionError", () => undefined);

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.setNoDelay(true);
    sniff(socket, (isH2) => {
      if (isH2) {
        connections.http2 += 1;
        h2.emit("connection", socket);
      } else {
        connections.http1 += 1;
        h1.emit("connection", socket);
        socket.resume();
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("emulator: no TCP address");

  return {
    port: address.port,
    connections,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      h1.closeAllConnections();
      await closed;
    },
  };
}

/**
 * A dropped connection should cut the stream after what was already sent, not swallow it: the
 * writes so far may still sit in a corked buffer, and an empty write completes after them.
 */
function afterFlush(stream: Writable, then: () => void): void {
  if (stream.destroyed) return;
  stream.write(Buffer.alloc(0), () => then());
}

/** Reads until the protocol is known, then puts the bytes back for the real server to read. */
function sniff(socket: net.Socket, decide: (isH2: boolean) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const compared = Math.min(seen.length, H2_PREFACE_START.length);
    const isH2Prefix = seen.subarray(0, compared).equals(H2_PREFACE_START.subarray(0, compared));
    if (isH2Prefix && seen.length < H2_PREFACE_START.length) return;
    socket.off("data", onData);
    socket.pause();
    socket.unshift(seen);
    decide(isH2Prefix);
  };
  socket.on("data", onData);
}
