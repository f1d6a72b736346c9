// The telemetry benchmark's OTLP backends, in a process of their own: in the load generator's process
// their work (reading every export) would slow the load generator and be charged to the broker.
// Started with fork(); sends {urls} once listening, answers "report" with what each received.
import { startOtlpReceiver } from "../test/support/otlp-receiver.js";

const [healthy, hanging, failing] = await Promise.all([startOtlpReceiver(), startOtlpReceiver("hang"), startOtlpReceiver("error-500")]);
process.send?.({ type: "listening", urls: { healthy: healthy.url, hanging: hanging.url, failing: failing.url } });
process.on("message", (message: unknown) => {
  if (message === "report") process.send?.({ type: "report", healthyExports: healthy.exports.length, brokenHits: hanging.hits + failing.hits });
});
process.on("disconnect", () => {
  void Promise.all([healthy.close(), hanging.close(), failing.close()]).finally(() => process.exit(0));
});
