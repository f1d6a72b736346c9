import {
  AccessDeniedException,
  ConverseCommand,
  ConverseStreamCommand,
  InternalServerException,
  ModelErrorException,
  ModelNotReadyException,
  ModelStreamErrorException,
  ModelTimeoutException,
  ResourceNotFoundException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} from "@aws-sdk/client-bedrock-runtime";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Harness } from "./sdk-harness.js";
import { HANDLERS, SONNET_4, startHarness, userText } from "./sdk-harness.js";

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => harness.stop());
beforeEach(() => harness.emulator.reset());

const request = { modelId: SONNET_4, messages: [userText("Hi")] };

const ERRORS = [
  { name: "ThrottlingException", type: ThrottlingException, status: 429 },
  { name: "ModelNotReadyException", type: ModelNotReadyException, status: 429 },
  { name: "ValidationException", type: ValidationException, status: 400 },
  { name: "AccessDeniedException", type: AccessDeniedException, status: 403 },
  { name: "ResourceNotFoundException", type: ResourceNotFoundException, status: 404 },
  { name: "ModelTimeoutException", type: ModelTimeoutException, status: 408 },
  { name: "ModelErrorException", type: ModelErrorException, status: 424 },
  { name: "InternalServerException", type: InternalServerException, status: 500 },
  { name: "ServiceUnavailableException", type: ServiceUnavailableException, status: 503 },
];

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

describe.each(HANDLERS)("over %s", (handler) => {
  it.each(ERRORS)("raises $name as the SDK's modeled class with status $status", async ({ name, type, status }) => {
    harness.emulator.setHandler(() => ({ error: { name, message: `${name} from the test` } }));
    const client = harness.client(handler);
    for (const command of [new ConverseCommand(request), new ConverseStreamCommand(request)]) {
      const error = await failure(client.send(command as ConverseCommand));
      expect(error).toBeInstanceOf(type);
      expect((error as InstanceType<typeof type>).$metadata.httpStatusCode).toBe(status);
      expect((error as Error).message).toBe(`${name} from the test`);
    }
    expect(harness.emulator.calls.every((call) => call.finished && call.usage === undefined)).toBe(true);
  });

  it("raises a mid-stream throttlingException during iteration, after text arrived", async () => {
    harness.emulator.setHandler(() => ({ midStreamError: { afterEvents: 2, name: "throttlingException" } }));
    const response = await harness.client(handler).send(new ConverseStreamCommand(request));
    const seen: string[] = [];
    const error = await failure(
      (async () => {
        for await (const event of response.stream ?? []) seen.push(Object.keys(event)[0] ?? "");
      })(),
    );
    expect(seen).toEqual(["messageStart", "contentBlockDelta"]);
    expect(error).toBeInstanceOf(ThrottlingException);
    expect(harness.emulator.calls[0]?.usage).toBeUndefined();
  });

  it("raises a mid-stream modelStreamErrorException given in PascalCase", async () => {
    harness.emulator.setHandler(() => ({ midStreamError: { afterEvents: 1, name: "ModelStreamErrorException", message: "boom" } }));
    const response = await harness.client(handler).send(new ConverseStreamCommand(request));
    const error = await failure((async () => {
      for await (const event of response.stream ?? []) void event;
    })());
    expect(error).toBeInstanceOf(ModelStreamErrorException);
    expect((error as Error).message).toBe("boom");
  });

  it("drops the connection mid-stream", async () => {
    harness.emulator.setHandler(() => ({ dropAfterEvents: 2 }));
    const response = await harness.client(handler).send(new ConverseStreamCommand(request));
    const seen: string[] = [];
    const error = await failure(
      (async () => {
        for await (const event of response.stream ?? []) seen.push(Object.keys(event)[0] ?? "");
      })(),
    );
    expect(error).toBeInstanceOf(Error);
    expect(seen).toEqual(["messageStart", "contentBlockDelta"]);
    expect(harness.emulator.calls[0]).toMatchObject({ finished: false });
  });

  it("hangs until the client aborts, and records the abort", async () => {
    harness.emulator.setHandler(() => ({ hang: true }));
    const controller = new AbortController();
    const pending = harness.client(handler).send(new ConverseCommand(request), { abortSignal: controller.signal });
    await waitFor(() => harness.emulator.calls.length === 1);
    controller.abort();
    await failure(pending);
    await waitFor(() => harness.emulator.calls[0]?.aborted === true);
    expect(harness.emulator.calls[0]).toMatchObject({ aborted: true, finished: false });
  });
});

describe("error details", () => {
  it("sends retry-after when asked, and a request id", async () => {
    harness.emulator.setHandler(() => ({ error: { name: "ThrottlingException", retryAfterSeconds: 0 } }));
    const error = await failure(harness.client("http1").send(new ConverseCommand(request)));
    expect(error).toBeInstanceOf(ThrottlingException);
    const throttled = error as ThrottlingException;
    expect(throttled.$response?.headers["retry-after"]).toBe("0");
    expect(throttled.$metadata.requestId).toBe(harness.emulator.calls[0]?.id);
    expect(throttled.message).toBe("Too many tokens, please wait before trying again.");
  });

  it("surfaces a throwing handler as InternalServerException", async () => {
    harness.emulator.setHandler(() => {
      throw new Error("handler bug");
    });
    const error = await failure(harness.client("http2").send(new ConverseCommand(request)));
    expect(error).toBeInstanceOf(InternalServerException);
    expect((error as Error).message).toContain("handler bug");
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
