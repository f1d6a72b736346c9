// The endpoint proxy against a small fake broker on loopback (the integration test uses the real one).
import http, { type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createEndpointServer, type EndpointOptions, type ExchangeEnd, type ExchangeStart } from "./endpoint-server.js";
import { silentLogger } from "./log.js";

const TOKEN = "tgl_local-token-for-unit-tests-0000000000000";
const KEY = "tg_developer-key";

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  closedEarly: boolean;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); })));
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function fakeBroker(handle: (req: IncomingMessage, res: ServerResponse, seen: Seen) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const url = await listen(
    http.createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        const entry: Seen = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body, closedEarly: false };
        seen.push(entry);
        res.on("close", () => (entry.closedEarly = !res.writableFinished));
        handle(req, res, entry);
      });
    }),
  );
  return { url, seen };
}

async function endpoint(brokerUrl: string, overrides: Partial<EndpointOptions> = {}) {
  const starts: ExchangeStart[] = [];
  const ends: ExchangeEnd[] = [];
  const unreachable: string[] = [];
  const url = await listen(
    createEndpointServer({
      localToken: TOKEN,
      brokerUrl: () => brokerUrl,
      developerKey: async () => KEY,
      project: () => "demo-repo",
      log: silentLogger,
      onResponse: (event) => starts.push(event),
      onExchangeEnd: (event) => ends.push(event),
      onBrokerUnreachable: (reason) => unreachable.push(reason),
      ...overrides,
    }),
  );
  return { url, starts, ends, unreachable };
}

const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };

describe("local endpoint", () => {
  it("refuses requests without the local token with a 401 in OpenAI's shape, never reaching the broker", async () => {
    const broker = await fakeBroker((_req, res) => res.end("{}"));
    const { url } = await endpoint(broker.url);
    const attempts: Array<Record<string, string>> = [{}, { authorization: `Bearer ${KEY}` }, { authorization: `Bearer ${TOKEN}x` }];
    for (const headers of attempts) {
      const response = await fetch(`${url}/v1/models`, { headers });
      expect(response.status).toBe(401);
      const body = (await response.json()) as { error: { code: string; message: string; type: string } };
      expect(body.error).toMatchObject({ code: "invalid_api_key", type: "invalid_request_error" });
      expect(body.error.message).toContain("endpoint.json");
    }
    expect(broker.seen).toHaveLength(0);
  });

  it("forwards /v1 with the developer's key and project, replacing the local token, and passes answers through", async () => {
    const broker = await fakeBroker((_req, res) => {
      res.writeHead(403, { "content-type": "application/json", "x-request-id": "r1", "x-ratelimit-remaining-requests": "9" });
      res.end(JSON.stringify({ error: { message: "nope", type: "permission_error", code: "model_not_allowed", param: null } }));
    });
    const { url, starts, ends } = await endpoint(`${broker.url}/`);
    const response = await fetch(`${url}/v1/chat/completions?x=1`, { method: "POST", headers: auth, body: JSON.stringify({ model: "m" }) });
    expect(response.status).toBe(403);
    expect(response.headers.get("x-request-id")).toBe("r1");
    expect(await response.json()).toEqual({ error: { message: "nope", type: "permission_error", code: "model_not_allowed", param: null } });
    const seen = broker.seen[0];
    expect(seen).toMatchObject({ method: "POST", url: "/v1/chat/completions?x=1", body: '{"model":"m"}' });
    expect(seen?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(seen?.headers["x-tollgate-project"]).toBe("demo-repo");
    expect(starts[0]).toMatchObject({ path: "/v1/chat/completions", status: 403 });
    expect(starts[0]?.headers["x-ratelimit-remaining-requests"]).toBe("9");
    await expect.poll(() => ends[0]).toMatchObject({ status: 403, outcome: "complete" });
  });

  it("keeps a project header the client sent, and a broker URL's path prefix", async () => {
    const broker = await fakeBroker((_req, res) => res.end("{}"));
    const { url } = await endpoint(`${broker.url}/tollgate`);
    await (await fetch(`${url}/v1/models`, { headers: { ...auth, "x-tollgate-project": "mine" } })).text();
    expect(broker.seen[0]).toMatchObject({ url: "/tollgate/v1/models" });
    expect(broker.seen[0]?.headers["x-tollgate-project"]).toBe("mine");
  });

  it("streams chunks as the broker writes them", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const broker = await fakeBroker((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write('data: {"n":1}\n\n');
      void gate.then(() => res.end('data: {"n":2}\n\ndata: [DONE]\n\n'));
    });
    const { url } = await endpoint(broker.url);
    const response = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: auth, body: "{}" });
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toBe('data: {"n":1}\n\n'); // arrived while the broker still holds the rest
    release();
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
    expect(rest).toContain("[DONE]");
  });

  it("aborts the broker request when the client goes away", async () => {
    const broker = await fakeBroker((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: {}\n\n");
      // never ends on its own
    });
    const { url, ends } = await endpoint(broker.url);
    const controller = new AbortController();
    const response = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: auth, body: "{}", signal: controller.signal });
    await response.body!.getReader().read();
    controller.abort();
    await expect.poll(() => broker.seen[0]?.closedEarly).toBe(true);
    await expect.poll(() => ends[0]?.outcome).toBe("client-aborted");
  });

  it("answers 503 in OpenAI's shape when the broker is unreachable", async () => {
    const closed = await listen(http.createServer());
    servers.pop()?.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const { url, unreachable } = await endpoint(closed);
    const response = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: auth, body: "{}" });
    expect(response.status).toBe(503);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("broker_unreachable");
    expect(body.error.message).toMatch(/broker at http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\)/);
    expect(unreachable).toEqual(["ECONNREFUSED"]);
  });

  it("answers 401 naming how to sign in when there is no developer key", async () => {
    const broker = await fakeBroker((_req, res) => res.end("{}"));
    const { url } = await endpoint(broker.url, { developerKey: async () => undefined });
    const response = await fetch(`${url}/v1/models`, { headers: auth });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: "tollgate_signed_out", message: expect.stringMatching(/Tollgate: Sign In/) });
    expect(broker.seen).toHaveLength(0);
  });

  it("serves a health route (token required) and 404s outside /v1", async () => {
    const broker = await fakeBroker((_req, res) => res.end("{}"));
    const { url } = await endpoint(broker.url, { pid: 4242, version: "9.9.9" });
    expect(await (await fetch(`${url}/tollgate/health`, { headers: auth })).json()).toEqual({ service: "tollgate-endpoint", pid: 4242, version: "9.9.9" });
    expect((await fetch(`${url}/tollgate/health`)).status).toBe(401);
    expect((await fetch(`${url}/admin/policy`, { headers: auth })).status).toBe(404);
    expect(broker.seen).toHaveLength(0);
  });
});
