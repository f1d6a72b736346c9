// Validates what a webview posts to the host (the webview is the less trusted side).
import { z } from "zod";
import type { WebviewMessage } from "../protocol.js";

const webviewMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ready") }),
  z.object({ type: z.literal("refresh") }),
  z.object({ type: z.literal("run"), command: z.enum(["signIn", "configureCline", "showLog"]) }),
]);

export function parseWebviewMessage(value: unknown): WebviewMessage | undefined {
  const parsed = webviewMessageSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
