// Checks on the parts of the prompt around the conversation: system blocks and the tool config.

import { isRecord } from "./bedrock-request.js";
import { validateCachePoint } from "./validate-messages.js";
import { constraintViolated, invalid, messagesText, modelRejected } from "./validation-messages.js";

const TOOL_NAME_PATTERN = "[a-zA-Z0-9_-]+";

export interface PromptPartFacts {
  hasToolConfig: boolean;
  systemCachePoints: number;
  toolCachePoints: number;
  /** toolChoice is `any` or names a tool. */
  forcesToolUse: boolean;
}

export function validateSystem(system: unknown): number {
  if (system === undefined) return 0;
  if (!Array.isArray(system)) throw invalid("The system field must be a list of SystemContentBlock objects.");
  let cachePoints = 0;
  system.forEach((block: unknown, index) => {
    if (!isRecord(block)) throw invalid(`The SystemContentBlock object at system.${index} is not valid.`);
    if (block.text !== undefined && (typeof block.text !== "string" || block.text.trim() === "")) {
      throw invalid(messagesText.blankText("SystemContentBlock", `system.${index}`));
    }
    if (block.cachePoint !== undefined) {
      cachePoints += 1;
      validateCachePoint(block.cachePoint, `system.${index + 1}.member.cachePoint`);
    }
  });
  return cachePoints;
}

export function validateToolConfig(toolConfig: unknown): Omit<PromptPartFacts, "systemCachePoints"> {
  if (toolConfig === undefined) return { hasToolConfig: false, toolCachePoints: 0, forcesToolUse: false };
  const tools = isRecord(toolConfig) ? toolConfig.tools : undefined;
  if (!Array.isArray(tools) || tools.length === 0) {
    throw constraintViolated(tools ?? null, "toolConfig.tools", "Member must have length greater than or equal to 1");
  }
  let toolCachePoints = 0;
  const names = new Set<string>();
  tools.forEach((tool: unknown, index) => {
    const memberPath = `toolConfig.tools.${index + 1}.member`;
    if (!isRecord(tool)) throw invalid(`The Tool object at toolConfig.tools.${index} is not valid.`);
    if (tool.cachePoint !== undefined) {
      toolCachePoints += 1;
      validateCachePoint(tool.cachePoint, `${memberPath}.cachePoint`);
      return;
    }
    if (!isRecord(tool.toolSpec)) return;
    const name = validateToolSpec(tool.toolSpec, `${memberPath}.toolSpec`);
    if (names.has(name)) throw modelRejected(messagesText.duplicateToolNames);
    names.add(name);
  });
  const choice = isRecord(toolConfig) ? toolConfig.toolChoice : undefined;
  const forcesToolUse = isRecord(choice) && (choice.any !== undefined || choice.tool !== undefined);
  return { hasToolConfig: true, toolCachePoints, forcesToolUse };
}

function validateToolSpec(spec: Record<string, unknown>, path: string): string {
  const { name, description, inputSchema } = spec;
  if (typeof name !== "string" || name.length === 0) {
    throw constraintViolated(name ?? "", `${path}.name`, "Member must have length greater than or equal to 1");
  }
  if (name.length > 64) throw constraintViolated(name, `${path}.name`, "Member must have length less than or equal to 64");
  if (!/^[a-zA-Z0-9_-]+$/.test(name)) {
    throw constraintViolated(name, `${path}.name`, `Member must satisfy regular expression pattern: ${TOOL_NAME_PATTERN}`);
  }
  if (description !== undefined && (typeof description !== "string" || description.length === 0)) {
    throw constraintViolated(description, `${path}.description`, "Member must have length greater than or equal to 1");
  }
  if (!isRecord(inputSchema) || inputSchema.json === undefined) {
    throw invalid(`1 validation error detected: Value null at '${path}.inputSchema' failed to satisfy constraint: Member must not be null`);
  }
  return name;
}
