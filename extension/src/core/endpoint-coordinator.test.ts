// Several extension hosts (here: coordinators with distinct pids in one process) share one endpoint.
import http, { type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EndpointCoordinator, readEndpointInfo } from "./endpoint-coordinator.js";
import { createEndpointServer } from "./endpoint-server.js";
import { silentLogger } from "./log.js";
import { tempDir } from "./test-builders.js";

const TOKEN = "tgl_coordinator-test-token-000000000000000000";
const coordinators: EndpointCoordinator[] = [];
const others: Server[] = [];

afterEach(async () => {
  await Promise.all(coordinators.splice(0).map((c) => c.dispose()));
  await Promise.all(others.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

function host(dir: string, pid: number, port: number): EndpointCoordinator {
  const coordinator = new EndpointCoordinator({
    configDir: dir,
    port,
    localToken: TOKEN,
    version: "test",
    pid,
    log: silentLogger,
    checkIntervalMs: 60_000, // tests drive reconcile() themselves
    createServer: () =>
      createEndpointServer({ localToken: TOKEN, brokerUrl: () => "http://127.0.0.1:9", developerKey: async () => "k", project: () => undefined, log: silentLogger, pid }),
  });
  coordinators.push(coordinator);
  return coordinator;
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("endpoint coordinator", () => {
  it("one host serves and records itself 0600; a second reuses; the second takes over when the first goes away", async () => {
    const dir = tempDir();
    const port = await freePort();
    const a = host(dir, 1001, port);
    const b = host(dir, 1002, port);
    expect((await a.start()).kind).toBe("serving");
    const file = join(dir, "endpoint.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: TOKEN, pid: 1001, port });

    const second = await b.start();
    expect(second).toMatchObject({ kind: "reusing", info: { pid: 1001, port } });

    await a.dispose();
    expect(existsSync(file)).toBe(false); // the server removes its own record
    await b.reconcile();
    expect(b.role).toMatchObject({ kind: "serving", info: { pid: 1002, port } });
    expect(readEndpointInfo(dir)).toMatchObject({ pid: 1002, port });
  });

  it("takes over from a server that died without cleaning up (stale endpoint.json)", async () => {
    const dir = tempDir();
    const port = await freePort();
    const a = host(dir, 2001, port);
    await a.start();
    // Simulate a crash: stop listening but leave the record behind.
    const server = (a as unknown as { server: Server }).server;
    await new Promise((resolve) => server.close(resolve));
    expect(readEndpointInfo(dir)?.pid).toBe(2001);
    const b = host(dir, 2002, port);
    expect(await b.start()).toMatchObject({ kind: "serving", info: { pid: 2002 } });
  });

  it("reports a conflict when another program holds the port", async () => {
    const dir = tempDir();
    const other = http.createServer((_req, res) => res.end("not tollgate"));
    others.push(other);
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    const port = (other.address() as AddressInfo).port;
    const role = await host(dir, 3001, port).start();
    expect(role).toMatchObject({ kind: "conflict", port });
    expect(role.kind === "conflict" && role.message).toMatch(/tollgate\.localPort/);
    expect(existsSync(join(dir, "endpoint.json"))).toBe(false);
  });

  it("with port 0, a second host reuses the first one's endpoint; hosts that both served converge on the recorded one", async () => {
    const dir = tempDir();
    const a = host(dir, 4001, 0);
    const b = host(dir, 4002, 0);
    const first = await a.start();
    expect(first.kind).toBe("serving");
    expect(await b.start()).toMatchObject({ kind: "reusing", info: { pid: 4001 } });

    // Two hosts that start at the same moment may both serve; the one whose record was overwritten steps down.
    const dir2 = tempDir();
    const c = host(dir2, 5001, 0);
    const d = host(dir2, 5002, 0);
    await Promise.all([c.start(), d.start()]);
    await Promise.all([c.reconcile(), d.reconcile()]);
    const roles = [c.role.kind, d.role.kind].sort();
    expect(roles).toEqual(["reusing", "serving"]);
    const winner = readEndpointInfo(dir2);
    expect([c.role, d.role].find((role) => role.kind === "reusing")).toMatchObject({ info: { pid: winner?.pid, port: winner?.port } });
  });
});
