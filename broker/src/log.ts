// Structured JSON logs (pino). Never log prompt or completion text, keys or AWS secrets: log lines
// carry ids, model names, token counts, costs and timings only.
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string = process.env.TOLLGATE_LOG_LEVEL ?? "info"): Logger {
  return pino({
    level,
    base: { service: "tollgate-broker" },
    redact: { paths: ["req.headers.authorization", "headers.authorization", "*.apiKey", "*.secret"], censor: "[redacted]" },
  });
}

export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
