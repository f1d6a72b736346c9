// Checks on the conversation itself: roles, content blocks, and toolUse/toolResult pairing.

import type { Message } from "./bedrock-request.js";
import { isRecord } from "./bedrock-request.js";
import { constraintViolated, invalid, messagesText, modelRejected } from "./validation-messages.js";

const TOOL_USE_ID = /^[a-zA-Z0-9_.:-]{1,64}$/;
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const IMAGE_FORMATS = ["gif", "jpeg", "png", "webp"];

export interface MessageFacts {
  usesToolBlocks: boolean;
  cachePoints: number;
}

export function validateMessages(messages: unknown): MessageFacts {
  if (!Array.isArray(messages) || messages.length === 0) throw invalid(messagesText.noMessages);
  const facts: MessageFacts = { usesToolBlocks: false, cachePoints: 0 };
  let previousRole: string | undefined;
  messages.forEach((message: unknown, index) => {
    if (!isRecord(message)) throw invalid(`The Message object at messages.${index} is not valid.`);
    const { role, content } = message;
    if (role !== "user" && role !== "assistant") {
      throw constraintViolated(role, `messages.${index + 1}.member.role`, "Member must satisfy enum value set: [user, assistant]");
    }
    if (index === 0 && role !== "user") throw invalid(messagesText.firstNotUser);
    if (role === previousRole) throw invalid(messagesText.notAlternating);
    previousRole = role;
    if (!Array.isArray(content) || content.length === 0) throw invalid(messagesText.emptyContent(`messages.${index}`));
    content.forEach((block: unknown, blockIndex) => {
      validateBlock(block, index, blockIndex, facts);
    });
  });
  checkToolPairing(messages as Message[]);
  return facts;
}

function validateBlock(block: unknown, index: number, blockIndex: number, facts: MessageFacts): void {
  const at = `messages.${index}.content.${blockIndex}`;
  const memberPath = `messages.${index + 1}.member.content.${blockIndex + 1}.member`;
  if (!isRecord(block)) throw invalid(`The ContentBlock object at ${at} is not valid.`);
  if (block.text !== undefined) {
    if (typeof block.text !== "string" || block.text.trim() === "") {
      throw invalid(messagesText.blankText("ContentBlock", at));
    }
  } else if (block.image !== undefined) {
    validateImage(block.image, at, memberPath);
  } else if (block.toolUse !== undefined) {
    facts.usesToolBlocks = true;
    const toolUse = isRecord(block.toolUse) ? block.toolUse : {};
    if (typeof toolUse.toolUseId !== "string" || !TOOL_USE_ID.test(toolUse.toolUseId)) {
      throw constraintViolated(toolUse.toolUseId, `${memberPath}.toolUse.toolUseId`, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.:-]+");
    }
    if (typeof toolUse.name !== "string" || !TOOL_NAME.test(toolUse.name)) {
      throw constraintViolated(toolUse.name, `${memberPath}.toolUse.name`, "Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+");
    }
    if (!isRecord(toolUse.input)) throw invalid(messagesText.toolInputNotObject(at));
  } else if (block.toolResult !== undefined) {
    facts.usesToolBlocks = true;
    validateToolResult(block.toolResult, at, memberPath);
  } else if (block.cachePoint !== undefined) {
    facts.cachePoints += 1;
    validateCachePoint(block.cachePoint, `${memberPath}.cachePoint`);
  }
}

function validateToolResult(toolResult: unknown, at: string, memberPath: string): void {
  const result = isRecord(toolResult) ? toolResult : {};
  if (typeof result.toolUseId !== "string" || !TOOL_USE_ID.test(result.toolUseId)) {
    throw constraintViolated(result.toolUseId, `${memberPath}.toolResult.toolUseId`, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.:-]+");
  }
  // An empty tool output is a classic broker bug: Bedrock refuses blank text here as everywhere.
  const parts: unknown[] = Array.isArray(result.content) ? result.content : [];
  parts.forEach((part, index) => {
    if (isRecord(part) && part.text !== undefined && (typeof part.text !== "string" || part.text.trim() === "")) {
      throw invalid(messagesText.blankText("ToolResultContentBlock", `${at}.toolResult.content.${index}`));
    }
  });
}

function validateImage(image: unknown, at: string, memberPath: string): void {
  const format = isRecord(image) ? image.format : undefined;
  if (typeof format !== "string" || !IMAGE_FORMATS.includes(format)) {
    throw constraintViolated(format, `${memberPath}.image.format`, `Member must satisfy enum value set: [${IMAGE_FORMATS.join(", ")}]`);
  }
  const source = isRecord(image) && isRecord(image.source) ? image.source : {};
  const hasBytes = typeof source.bytes === "string" && source.bytes.length > 0;
  if (!hasBytes && source.s3Location === undefined) throw invalid(messagesText.emptyImage(at));
}

export function validateCachePoint(cachePoint: unknown, memberPath: string): void {
  const type = isRecord(cachePoint) ? cachePoint.type : undefined;
  if (type !== "default") throw constraintViolated(type, `${memberPath}.type`, "Member must satisfy enum value set: [default]");
}

/** Anthropic models insist every tool_use is answered in the next message, and only those. */
function checkToolPairing(messages: Message[]): void {
  messages.forEach((message, index) => {
    if (message.role !== "assistant") return;
    const useIds = toolUseIds(message);
    const next = messages[index + 1];
    if (useIds.size === 0 || next === undefined) return;
    const answered = new Set((next.content ?? []).flatMap((block) => block.toolResult?.toolUseId ?? []));
    const missing = [...useIds].filter((id) => !answered.has(id));
    if (missing.length > 0) {
      throw modelRejected(messagesText.missingToolResult(`messages.${index + 1}`, missing.join(", ")));
    }
  });
  messages.forEach((message, index) => {
    if (message.role !== "user") return;
    const previous = messages[index - 1];
    const available = previous === undefined ? new Set<string>() : toolUseIds(previous);
    (message.content ?? []).forEach((block, blockIndex) => {
      const id = block.toolResult?.toolUseId;
      if (id !== undefined && !available.has(id)) {
        throw modelRejected(messagesText.orphanToolResult(`messages.${index}.content.${blockIndex}`, id));
      }
    });
  });
}

function toolUseIds(message: Message): Set<string> {
  return new Set((message.content ?? []).flatMap((block) => block.toolUse?.toolUseId ?? []));
}
