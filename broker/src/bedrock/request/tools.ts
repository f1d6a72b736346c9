// OpenAI `tools` / `tool_choice` / `parallel_tool_calls` → Bedrock `toolConfig`.
import type { Message, Tool, ToolConfiguration } from "@aws-sdk/client-bedrock-runtime";
import type { ToolChoice, ToolDefinition } from "@tollgate/shared";
import { invalidRequest } from "../../errors.js";

const VALID_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export interface ToolTranslation {
  toolConfig: ToolConfiguration | undefined;
  /** Anthropic's `tool_choice` extension, for `parallel_tool_calls: false`. */
  anthropicToolChoice: Record<string, unknown> | undefined;
}

export function translateTools(
  tools: readonly ToolDefinition[] | undefined,
  choice: ToolChoice | undefined,
  parallelToolCalls: boolean | undefined,
  messages: readonly Message[],
  isAnthropic: boolean,
): ToolTranslation {
  const historyUsesTools = messages.some((message) =>
    (message.content ?? []).some((block) => block.toolUse !== undefined || block.toolResult !== undefined),
  );
  if (!tools || tools.length === 0) {
    if (choice !== undefined && choice !== "none" && choice !== "auto") {
      throw invalidRequest("tool_choice requires tools; the request defines none.", "tool_choice");
    }
    if (historyUsesTools) {
      throw invalidRequest(
        "The conversation contains tool calls or tool results but the request defines no tools; Bedrock needs the tool definitions to accept them. Send the same `tools` as in earlier turns.",
        "tools",
      );
    }
    return { toolConfig: undefined, anthropicToolChoice: undefined };
  }
  // Bedrock has no "none": drop the tools entirely when the history allows it. When the history
  // already holds tool calls Bedrock needs the definitions, so the model may still choose a tool.
  if (choice === "none" && !historyUsesTools) return { toolConfig: undefined, anthropicToolChoice: undefined };

  const names = new Set<string>();
  const specs: Tool[] = tools.map((tool, index) => {
    const name = tool.function.name;
    const param = `tools[${index}].function.name`;
    if (!VALID_TOOL_NAME.test(name)) {
      throw invalidRequest(`Tool name "${name}" is invalid: use 1-64 letters, digits, "_" or "-".`, param);
    }
    if (names.has(name)) throw invalidRequest(`Tool name "${name}" is defined twice.`, param);
    names.add(name);
    const description = tool.function.description?.trim();
    return {
      toolSpec: {
        name,
        // Bedrock rejects an empty description (Cline's focus_chain tool has one): omit it instead.
        ...(description ? { description } : {}),
        inputSchema: { json: (tool.function.parameters ?? { type: "object", properties: {} }) as never },
      },
    };
  });

  let toolChoice: ToolConfiguration["toolChoice"];
  let anthropicType: "auto" | "any" | "tool" = "auto";
  if (choice === "required") {
    toolChoice = { any: {} };
    anthropicType = "any";
  } else if (typeof choice === "object") {
    if (!names.has(choice.function.name)) {
      throw invalidRequest(`tool_choice names "${choice.function.name}", which is not among the tools.`, "tool_choice.function.name");
    }
    toolChoice = { tool: { name: choice.function.name } };
    anthropicType = "tool";
  } else {
    toolChoice = { auto: {} };
  }

  // Converse has no field for OpenAI's parallel_tool_calls. Claude takes it as
  // tool_choice.disable_parallel_tool_use in the model's own request fields; only the "auto" form
  // is sent, because a forced choice there conflicts with toolConfig.toolChoice on newer models.
  const anthropicToolChoice =
    isAnthropic && parallelToolCalls === false && anthropicType === "auto"
      ? { type: "auto", disable_parallel_tool_use: true }
      : undefined;

  return { toolConfig: { tools: specs, toolChoice }, anthropicToolChoice };
}
