import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXCHANGE_FILE, signalExchange, watchExchanges } from "./exchange-signal.js";
import { tempDir } from "./test-builders.js";

describe("exchange signal", () => {
  it("reaches every watcher of the config dir, debounced, in a 0600 file", async () => {
    const dir = join(tempDir(), "tollgate");
    let a = 0;
    let b = 0;
    const watchers = [watchExchanges(dir, () => a++, undefined, 20), watchExchanges(dir, () => b++, undefined, 20)];
    signalExchange(dir, 77);
    signalExchange(dir, 77);
    await expect.poll(() => [a, b]).toEqual([1, 1]);
    expect(JSON.parse(readFileSync(join(dir, EXCHANGE_FILE), "utf8"))).toMatchObject({ pid: 77 });
    expect(statSync(join(dir, EXCHANGE_FILE)).mode & 0o777).toBe(0o600);
    for (const watcher of watchers) watcher.dispose();
    signalExchange(dir);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect([a, b]).toEqual([1, 1]);
  });
});
