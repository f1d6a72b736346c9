// Beyond: the broker's models as a VS Code language-model provider (vscode.lm, VS Code ≥ 1.104), so
// Cline's "VS Code LM API" provider and other extensions can use the org's models with no key to
// paste, still under the developer's identity, project and limits. Registered only where the API
// exists (the engine floor, 1.100, does not have it; its types are declared here for that reason).
import * as vscode from "vscode";
import { BrokerError, type BrokerClient } from "../core/broker-client.js";
import { streamChatCompletion } from "../core/chat-stream.js";
import { estimateTokens, toOpenAIMessages, toOpenAITools, ToolCallCollector, type LmMessage, type LmPart } from "../core/lm-translate.js";
import type { Logger } from "../core/log.js";

export const LM_VENDOR = "tollgate";

/** The parts of VS Code 1.104's LanguageModelChatProvider API this provider uses. */
interface ChatInformation {
  id: string;
  name: string;
  family: string;
  version: string;
  detail?: string;
  tooltip?: string;
  maxInputTokens: number;
  maxOutputTokens: number;
  capabilities: { imageInput?: boolean; toolCalling?: boolean | number };
}
interface ChatRequestMessage {
  role: vscode.LanguageModelChatMessageRole;
  content: ReadonlyArray<unknown>;
  name: string | undefined;
}
interface ResponseOptions {
  modelOptions?: { readonly [name: string]: unknown };
  tools?: readonly vscode.LanguageModelChatTool[];
  toolMode: vscode.LanguageModelChatToolMode;
}
type ResponsePart = vscode.LanguageModelTextPart | vscode.LanguageModelToolCallPart;
interface ChatProvider {
  onDidChangeLanguageModelChatInformation?: vscode.Event<void>;
  provideLanguageModelChatInformation(options: { silent: boolean }, token: vscode.CancellationToken): Promise<ChatInformation[]>;
  provideLanguageModelChatResponse(
    model: ChatInformation,
    messages: readonly ChatRequestMessage[],
    options: ResponseOptions,
    progress: vscode.Progress<ResponsePart>,
    token: vscode.CancellationToken,
  ): Promise<void>;
  provideTokenCount(model: ChatInformation, text: string | ChatRequestMessage, token: vscode.CancellationToken): Promise<number>;
}
type Register = (vendor: string, provider: ChatProvider) => vscode.Disposable;

export function lmApiAvailable(): boolean {
  return typeof (vscode.lm as unknown as { registerLanguageModelChatProvider?: unknown } | undefined)?.registerLanguageModelChatProvider === "function";
}

function toLmPart(part: unknown): LmPart[] {
  if (part instanceof vscode.LanguageModelTextPart) return [{ kind: "text", text: part.value }];
  if (part instanceof vscode.LanguageModelToolCallPart) return [{ kind: "toolCall", callId: part.callId, name: part.name, input: part.input }];
  if (part instanceof vscode.LanguageModelToolResultPart) {
    const content = part.content.map((inner) => (inner instanceof vscode.LanguageModelTextPart ? inner.value : "")).join("");
    return [{ kind: "toolResult", callId: part.callId, content }];
  }
  return [];
}

function toLmMessages(messages: readonly ChatRequestMessage[]): LmMessage[] {
  return messages.map((message) => ({
    role: message.role === vscode.LanguageModelChatMessageRole.Assistant ? "assistant" : "user",
    parts: message.content.flatMap(toLmPart),
  }));
}

export interface LmProviderDeps {
  client: BrokerClient;
  brokerUrl: () => string;
  developerKey: () => Promise<string | undefined>;
  project: () => string | undefined;
  log: Logger;
  onResponse: (status: number, headers: Headers) => void;
  onDone: () => void;
}

export function createLmProvider(deps: LmProviderDeps): ChatProvider & vscode.Disposable {
  const changed = new vscode.EventEmitter<void>();
  return {
    onDidChangeLanguageModelChatInformation: changed.event,
    dispose: () => changed.dispose(),
    async provideLanguageModelChatInformation(): Promise<ChatInformation[]> {
      try {
        const models = await deps.client.models();
        return models.map((model) => ({
          id: model.id,
          name: model.id,
          family: model.id,
          version: "tollgate",
          detail: "Tollgate",
          tooltip: `${model.id} through your organisation's Tollgate broker`,
          // An older broker doesn't say; these are what current Claude models on Bedrock take.
          maxInputTokens: model.context_window ?? 200_000,
          maxOutputTokens: model.max_output_tokens ?? 32_000,
          // Images would need the lm API's data parts translated; until then, say text only.
          capabilities: { toolCalling: true, imageInput: false },
        }));
      } catch (error) {
        if (!BrokerError.is(error, "no-key")) deps.log.warn(`language models: ${(error as Error).message}`);
        return [];
      }
    },
    async provideLanguageModelChatResponse(model, messages, options, progress, token): Promise<void> {
      const key = await deps.developerKey();
      if (!key) throw new Error("Tollgate: not signed in. Run \"Tollgate: Sign In\".");
      const controller = new AbortController();
      const cancel = token.onCancellationRequested(() => controller.abort());
      const tools = options.tools?.length ? toOpenAITools(options.tools) : undefined;
      const body: Record<string, unknown> = { model: model.id, messages: toOpenAIMessages(toLmMessages(messages)) };
      if (tools) {
        body.tools = tools;
        body.tool_choice = options.toolMode === vscode.LanguageModelChatToolMode.Required ? "required" : "auto";
      }
      const collector = new ToolCallCollector();
      try {
        for await (const chunk of streamChatCompletion({ brokerUrl: deps.brokerUrl(), key, project: deps.project(), body, signal: controller.signal, onResponse: deps.onResponse })) {
          const delta = chunk.choices?.[0]?.delta;
          if (delta?.content) progress.report(new vscode.LanguageModelTextPart(delta.content));
          collector.add(delta?.tool_calls);
        }
        for (const call of collector.finish()) progress.report(new vscode.LanguageModelToolCallPart(call.callId, call.name, call.input));
      } catch (error) {
        if (controller.signal.aborted) return;
        throw new Error(`Tollgate: ${(error as Error).message}`, { cause: error });
      } finally {
        cancel.dispose();
        deps.onDone();
      }
    },
    async provideTokenCount(_model, text): Promise<number> {
      if (typeof text === "string") return estimateTokens(text);
      return estimateTokens(JSON.stringify(toOpenAIMessages(toLmMessages([text]))));
    },
  };
}

/** Registers the provider when this VS Code has the API; returns undefined otherwise. */
export function registerLmProvider(deps: LmProviderDeps): vscode.Disposable | undefined {
  const register = (vscode.lm as unknown as { registerLanguageModelChatProvider?: Register } | undefined)?.registerLanguageModelChatProvider;
  if (typeof register !== "function") {
    deps.log.info("language models: this VS Code has no registerLanguageModelChatProvider (needs ≥ 1.104); not offered");
    return undefined;
  }
  const provider = createLmProvider(deps);
  const registration = register.call(vscode.lm, LM_VENDOR, provider);
  deps.log.info("language models: Tollgate's models offered through vscode.lm");
  return vscode.Disposable.from(registration, provider);
}
