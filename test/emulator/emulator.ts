// startEmulator: wires the transport, the routes and the shared state into the Emulator API.

import { matchBedrockPath, serveBedrock } from "./bedrock-route.js";
import type { BedrockContext } from "./bedrock-route.js";
import { CallLog } from "./call-log.js";
import { applyEnvTo, emulatorEnv, envFor } from "./emulator-env.js";
import type { Exchange } from "./exchange.js";
import { FakeImds } from "./fake-imds.js";
import { FakeSts } from "./fake-sts.js";
import { PromptCache } from "./prompt-cache.js";
import { ReasoningSigner } from "./reasoning-signature.js";
import { listen } from "./transport.js";
import type { Emulator, EmulatorOptions, RuntimeOptions, ScenarioHandler } from "./types.js";

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const runtime: RuntimeOptions = {
    firstByteDelayMs: options.firstByteDelayMs ?? 0,
    chunkDelayMs: options.chunkDelayMs ?? 0,
    contextWindowTokens: options.contextWindowTokens ?? 200_000,
  };
  let handler: ScenarioHandler | undefined;
  const log = new CallLog();
  const cache = new PromptCache();
  const imds = new FakeImds();
  const sts = new FakeSts();
  const bedrock: BedrockContext = {
    log,
    cache,
    signer: new ReasoningSigner(),
    options: () => runtime,
    handler: () => handler,
  };

  const host = options.host ?? "127.0.0.1";
  const transport = await listen(host, options.port ?? 0, (exchange) => {
    route(exchange, bedrock, imds, sts).catch((error: unknown) => failInternally(exchange, error));
  });
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${transport.port}`;

  return {
    url,
    port: transport.port,
    env: () => emulatorEnv(url),
    envFor: (base) => envFor(base, url),
    applyEnvTo: (target) => applyEnvTo(target, url),
    calls: log.calls,
    setHandler: (next) => {
      handler = next;
    },
    setOptions: (partial) => {
      Object.assign(runtime, partial);
    },
    totals: () => log.totals(),
    assumeRoleCalls: sts.calls,
    imds,
    connections: () => ({ ...transport.connections }),
    failAssumeRole: (roleArn, fail) => sts.refuse(roleArn, fail),
    setAssumeRoleSessionSeconds: (seconds) => (sts.sessionSecondsOverride = seconds),
    reset: () => {
      handler = undefined;
      log.clear();
      cache.clear();
      imds.reset();
      sts.reset();
    },
    close: () => transport.close(),
  };
}

async function route(exchange: Exchange, bedrock: BedrockContext, imds: FakeImds, sts: FakeSts): Promise<void> {
  const target = matchBedrockPath(exchange.path);
  if (target !== undefined && exchange.method === "POST") return serveBedrock(exchange, target, bedrock);
  if (FakeImds.handles(exchange.path)) return imds.serve(exchange);
  if (FakeSts.handles(exchange.method, exchange.path)) return sts.serve(exchange);
  exchange.respond(
    404,
    { "content-type": "application/json", "x-amzn-errortype": "UnknownOperationException" },
    JSON.stringify({ message: `The Bedrock emulator has no route for ${exchange.method} ${exchange.path}` }),
  );
}

/** A bug in the emulator itself: answer 500 so the client fails fast instead of hanging. */
function failInternally(exchange: Exchange, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  exchange.respond(
    500,
    { "content-type": "application/json", "x-amzn-errortype": "InternalServerException" },
    JSON.stringify({ message: `Bedrock emulator failure: ${message}` }),
  );
}
