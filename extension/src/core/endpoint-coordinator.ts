// Several code-server windows mean several extension hosts, each wanting the local endpoint.
// One serves; the others reuse it; when it goes away, one of them takes over.
//
// - The server records itself in <configDir>/endpoint.json (0600): base URL, token, pid.
// - A host first looks there: a live Tollgate endpoint (its health route answers with the local
//   token and the recorded pid) is reused. Otherwise it listens; if the port is taken, it probes
//   the port: a Tollgate endpoint is reused, anything else is a conflict to report.
// - Every few seconds each host re-checks: a reuser whose server died tries to take over; a server
//   whose record was overwritten by another live server (port 0: several could start at once)
//   steps down, so all converge on the one named in endpoint.json.
import { rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { join } from "node:path";
import { z } from "zod";
import { CONFIG_FILES } from "./config-dir.js";
import { ENDPOINT_SERVICE, HEALTH_PATH } from "./endpoint-server.js";
import type { Logger } from "./log.js";
import { readPrivateFile, writePrivateFile } from "./secure-files.js";

export const endpointInfoSchema = z.object({
  baseUrl: z.string(),
  apiKey: z.string(),
  pid: z.number(),
  port: z.number(),
  host: z.string(),
  startedAt: z.string(),
  version: z.string(),
});
export type EndpointInfo = z.infer<typeof endpointInfoSchema>;

export type EndpointRole =
  | { kind: "starting" }
  | { kind: "serving"; info: EndpointInfo }
  | { kind: "reusing"; info: EndpointInfo }
  | { kind: "conflict"; port: number; message: string }
  | { kind: "stopped" };

export interface CoordinatorOptions {
  configDir: string;
  /** 0: any free port. */
  port: number;
  localToken: string;
  /** Makes a new (not yet listening) server; called each time this host starts serving. */
  createServer: () => Server;
  log: Logger;
  version: string;
  pid?: number;
  host?: string;
  checkIntervalMs?: number;
  probeTimeoutMs?: number;
  onRoleChange?: (role: EndpointRole) => void;
}

const healthSchema = z.object({ service: z.literal(ENDPOINT_SERVICE), pid: z.number(), version: z.string().optional() });

export function readEndpointInfo(configDir: string): EndpointInfo | undefined {
  const read = readPrivateFile(join(configDir, CONFIG_FILES.endpoint));
  if (read.kind !== "ok") return undefined;
  try {
    const parsed = endpointInfoSchema.safeParse(JSON.parse(read.text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Asks http://host:port/tollgate/health with the local token; returns the serving pid when it is a Tollgate endpoint. */
export async function probeEndpoint(host: string, port: number, token: string, timeoutMs = 1500): Promise<number | undefined> {
  try {
    const response = await fetch(`http://${host}:${port}${HEALTH_PATH}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    const health = healthSchema.safeParse(await response.json());
    return health.success ? health.data.pid : undefined;
  } catch {
    return undefined;
  }
}

export class EndpointCoordinator {
  private current: EndpointRole = { kind: "starting" };
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private disposed = false;
  private readonly pid: number;
  private readonly host: string;
  private readonly file: string;

  constructor(private readonly options: CoordinatorOptions) {
    this.pid = options.pid ?? process.pid;
    this.host = options.host ?? "127.0.0.1";
    this.file = join(options.configDir, CONFIG_FILES.endpoint);
  }

  get role(): EndpointRole {
    return this.current;
  }

  /** Serves or reuses, then keeps checking. Resolves with the first role. */
  async start(): Promise<EndpointRole> {
    await this.reconcile();
    const interval = this.options.checkIntervalMs ?? 5000;
    this.timer = setInterval(() => void this.reconcile(), interval);
    this.timer.unref();
    return this.current;
  }

  /** One round of checks (serialised: rounds never overlap). */
  reconcile(): Promise<void> {
    this.queue = this.queue.then(() => this.round()).catch((error: unknown) => this.options.log.error(`endpoint: ${(error as Error).message}`));
    return this.queue;
  }

  private disposing: Promise<void> | undefined;

  /** Stops serving (removing endpoint.json if it names this host) and checking. Idempotent. */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      this.disposed = true;
      clearInterval(this.timer);
      await this.queue;
      await this.stopServing();
      this.setRole({ kind: "stopped" });
    })();
    return this.disposing;
  }

  private setRole(role: EndpointRole): void {
    const before = this.current;
    this.current = role;
    const same =
      before.kind === role.kind &&
      ("info" in before && "info" in role ? before.info.baseUrl === role.info.baseUrl && before.info.pid === role.info.pid : true);
    if (!same) {
      const where = "info" in role ? ` ${role.info.baseUrl} (pid ${role.info.pid})` : role.kind === "conflict" ? `: ${role.message}` : "";
      this.options.log.info(`endpoint: ${role.kind}${where}`);
      this.options.onRoleChange?.(role);
    }
  }

  private async round(): Promise<void> {
    if (this.disposed) return;
    const role = this.current;
    if (role.kind === "serving") {
      const recorded = readEndpointInfo(this.options.configDir);
      if (recorded && (recorded.pid !== this.pid || recorded.port !== role.info.port)) {
        // Another host recorded itself after us. If it is alive, it wins; else we take the record back.
        if ((await probeEndpoint(this.host, recorded.port, this.options.localToken, this.options.probeTimeoutMs)) === recorded.pid) {
          await this.stopServing(false);
          this.setRole({ kind: "reusing", info: recorded });
          return;
        }
      }
      if (!recorded || recorded.pid !== this.pid || recorded.port !== role.info.port || recorded.apiKey !== this.options.localToken) {
        writePrivateFile(this.file, `${JSON.stringify(role.info, null, 2)}\n`);
      }
      return;
    }
    if (role.kind === "reusing") {
      const pid = await probeEndpoint(this.host, role.info.port, this.options.localToken, this.options.probeTimeoutMs);
      if (pid !== undefined) {
        const recorded = readEndpointInfo(this.options.configDir);
        if (recorded && recorded.port === role.info.port && recorded.pid === pid) this.setRole({ kind: "reusing", info: recorded });
        return;
      }
      this.options.log.info(`endpoint: ${role.info.baseUrl} went away; taking over`);
    }
    await this.acquire();
  }

  private async acquire(): Promise<void> {
    const wanted = this.options.port;
    const recorded = readEndpointInfo(this.options.configDir);
    if (recorded && recorded.pid !== this.pid && (wanted === 0 || recorded.port === wanted)) {
      if ((await probeEndpoint(this.host, recorded.port, this.options.localToken, this.options.probeTimeoutMs)) === recorded.pid) {
        this.setRole({ kind: "reusing", info: recorded });
        return;
      }
    }
    const server = this.options.createServer();
    const listened = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const onError = (error: NodeJS.ErrnoException): void => resolve(error);
      server.once("error", onError);
      server.listen(wanted, this.host, () => {
        server.off("error", onError);
        resolve(undefined);
      });
    });
    if (listened) {
      server.close();
      if (listened.code === "EADDRINUSE") {
        const pid = await probeEndpoint(this.host, wanted, this.options.localToken, this.options.probeTimeoutMs);
        if (pid !== undefined) {
          this.setRole({ kind: "reusing", info: this.infoFor(wanted, pid) });
          return;
        }
        this.setRole({
          kind: "conflict",
          port: wanted,
          message: `port ${wanted} on ${this.host} is used by another program; set tollgate.localPort to a free port (or 0 for any).`,
        });
        return;
      }
      this.setRole({ kind: "conflict", port: wanted, message: `cannot listen on ${this.host}:${wanted}: ${listened.message}` });
      return;
    }
    if (this.disposed) {
      server.close();
      return;
    }
    server.on("error", (error) => this.options.log.error(`endpoint server: ${error.message}`));
    this.server = server;
    const port = (server.address() as AddressInfo).port;
    const info = this.infoFor(port, this.pid);
    writePrivateFile(this.file, `${JSON.stringify(info, null, 2)}\n`);
    this.setRole({ kind: "serving", info });
  }

  private infoFor(port: number, pid: number): EndpointInfo {
    return {
      baseUrl: `http://${this.host}:${port}/v1`,
      apiKey: this.options.localToken,
      pid,
      port,
      host: this.host,
      startedAt: new Date().toISOString(),
      version: this.options.version,
    };
  }

  private async stopServing(removeRecord = true): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const port = (server.address() as AddressInfo | null)?.port;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    if (removeRecord) {
      const recorded = readEndpointInfo(this.options.configDir);
      if (recorded && recorded.pid === this.pid && recorded.port === port) rmSync(this.file, { force: true });
    }
  }
}
