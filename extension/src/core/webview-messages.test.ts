import { describe, expect, it } from "vitest";
import { parseWebviewMessage } from "./webview-messages.js";

describe("webview messages", () => {
  it("accepts the protocol's messages and nothing else", () => {
    expect(parseWebviewMessage({ type: "ready" })).toEqual({ type: "ready" });
    expect(parseWebviewMessage({ type: "run", command: "signIn" })).toEqual({ type: "run", command: "signIn" });
    expect(parseWebviewMessage({ type: "run", command: "workbench.action.terminal.new" })).toBeUndefined();
    expect(parseWebviewMessage({ type: "fetch", url: "http://evil" })).toBeUndefined();
    expect(parseWebviewMessage("ready")).toBeUndefined();
  });
});
