// Where the broker listens: loopback unless told otherwise, and a warning in the log whenever the
// address it actually bound is reachable from other hosts (there is no TLS in the broker itself).
import { afterEach, describe, expect, it } from "vitest";
import { startBrokerProcess, writePolicyFile, type BrokerProcess } from "../support/broker-process.js";
import { TEST_POLICY } from "../support/harness.js";

const WARNING = /"level":40.*serving on a non-loopback address: put TLS \(a reverse proxy\) in front of it/;

const running: BrokerProcess[] = [];
afterEach(async () => {
  for (const broker of running.splice(0)) expect(await broker.stop("SIGTERM")).toBe(0);
});

async function serve(args: string[] = []): Promise<BrokerProcess> {
  const broker = await startBrokerProcess({ policyFile: writePolicyFile(TEST_POLICY), env: process.env, args });
  running.push(broker);
  // The warning is logged right after the "listening" line; give the log a moment to arrive.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return broker;
}

describe("the listening address", () => {
  it("is loopback by default, without a warning", async () => {
    const broker = await serve();
    expect(broker.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(broker.output()).not.toMatch(WARNING);
  });

  it("warns when serving on every interface", async () => {
    const broker = await serve(["--host", "0.0.0.0"]);
    expect(broker.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    expect(broker.output()).toMatch(WARNING);
    expect(broker.output()).toMatch(/"address":"0\.0\.0\.0"/);
    // And it does serve there.
    expect((await fetch(`${broker.url}/healthz`)).status).toBe(200);
  });

  it("judges the address bound, not the name given: localhost and other 127/8 addresses don't warn", async () => {
    for (const host of ["localhost", "127.0.0.2"]) {
      const broker = await serve(["--host", host]);
      expect(new URL(broker.url).hostname).toMatch(/^(127\.0\.0\.[12]|\[::1\])$/);
      expect(broker.output()).not.toMatch(WARNING);
    }
  });
});
