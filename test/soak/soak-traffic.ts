// The soak's traffic: what request number `seq` is (user, model, streamed or not, tools, cancel),
// its OpenAI body, the answer the emulator gives it, and the emulator's side of the bargain: a
// scenario per Bedrock call (some throttled) and a record of the usage it reported per request.
//
// Everything about request `seq` is a pure function of (seed, seq), so neither the load generator
// nor the emulator keeps bodies around: the emulator finds `seq` in the tag the last message
// carries ("[soak #123]") and derives the same plan.
import type { RecordedCall, Scenario } from "../emulator/index.js";
import { MODELS, OTHER_REGION, SOAK_USERS, THROTTLED_REGION, type SoakUser } from "./soak-policy.js";

/** Share of Bedrock calls in THROTTLED_REGION answered with ThrottlingException. */
export const THROTTLE_SHARE = 0.1;
/** Share of calls to claude-sonnet-4-5 in OTHER_REGION throttled too, so whole models fail over to their fallbacks. */
export const SONNET45_OTHER_REGION_THROTTLE_SHARE = 0.05;

export type Intent = "chat" | "tool-call" | "tools-text" | "agent-turn" | "cancel";

export interface Plan {
  seq: number;
  user: SoakUser;
  model: string;
  stream: boolean;
  includeUsage: boolean;
  intent: Intent;
  /** Earlier conversation turns sent as history (a shared prefix, so prompt caching reads). */
  historyTurns: number;
  maxTokens: number;
}

export type ExpectedAnswer = { text: string; tool?: { name: string; arguments: unknown } } | { cancel: true };

/** mulberry32: small, fast, deterministic. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function rngFor(seed: number, seq: number, salt: number): () => number {
  return rng((Math.imul(seed, 0x9e3779b1) ^ Math.imul(seq + 1, 0x85ebca6b) ^ Math.imul(salt, 0xc2b2ae35)) >>> 0);
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length) % items.length] as T;
}

export function planFor(seed: number, seq: number): Plan {
  const random = rngFor(seed, seq, 1);
  let roll = random();
  let user = SOAK_USERS[SOAK_USERS.length - 1] as SoakUser;
  for (const candidate of SOAK_USERS) {
    if (roll < candidate.share) {
      user = candidate;
      break;
    }
    roll -= candidate.share;
  }
  const modelRoll = random();
  const wanted = modelRoll < 0.5 ? MODELS.sonnet45 : modelRoll < 0.8 ? MODELS.sonnet4 : MODELS.haiku45;
  const model = user.models.includes(wanted) ? wanted : (user.models[Math.floor(random() * user.models.length)] as string);
  const stream = random() < 0.65;
  const intentRoll = random();
  let intent: Intent;
  if (stream && intentRoll < 0.06) intent = "cancel";
  else if (intentRoll < 0.26) intent = "tool-call";
  else if (intentRoll < 0.4) intent = "tools-text";
  else if (intentRoll < 0.55) intent = "agent-turn";
  else intent = "chat";
  return {
    seq,
    user,
    model,
    stream,
    includeUsage: stream && random() < 0.8,
    intent,
    historyTurns: Math.floor(random() * 5),
    maxTokens: 256 + Math.floor(random() * 769),
  };
}

// --- Request bodies -------------------------------------------------------------------------------

const RULES = [
  "Prefer small, reviewable changes and explain why each one is needed.",
  "Never print secrets, keys or tokens, even when a file contains them.",
  "Run the project's tests after every change and read their output before moving on.",
  "Use the tools one at a time and wait for each result before choosing the next step.",
  "When a command could change the system, say what it does before running it.",
  "Keep answers short; link to the files you touched with their paths.",
  "Follow the repository's formatting and naming conventions exactly.",
  "If the task is ambiguous, ask one precise question instead of guessing.",
];

function systemPrompt(user: SoakUser): string {
  // ~5,400 characters (~1,350 tokens): above the 1,024-token minimum of the Sonnet models, so the
  // broker places a cache point after it and later requests read it from the cache.
  const lines = [`You are a coding agent working for ${user.name} of team ${user.team} in their repository.`];
  for (let i = 0; lines.join("\n").length < 5_400; i++) lines.push(`${i + 1}. ${RULES[i % RULES.length]} (${user.name}, rule ${i + 1})`);
  return lines.join("\n");
}

const SYSTEM_PROMPTS = new Map(SOAK_USERS.map((user) => [user.name, systemPrompt(user)]));

const TOOLS = [
  tool("read_file", "Read the contents of a file at the given path, relative to the workspace root. Use it to inspect code before changing it.", { path: { type: "string", description: "The file's path" } }, ["path"]),
  tool("list_files", "List the files and folders in a directory, optionally recursively, to find where things live.", { path: { type: "string" }, recursive: { type: "boolean" } }, ["path"]),
  tool("execute_command", "Run a shell command in the workspace and return its output. Explain what it does first.", { command: { type: "string" }, requires_approval: { type: "boolean" } }, ["command", "requires_approval"]),
  tool("write_to_file", "Write content to a file, creating it or replacing what is there.", { path: { type: "string" }, content: { type: "string" } }, ["path", "content"]),
];

function tool(name: string, description: string, properties: Record<string, unknown>, required: string[]) {
  return { type: "function" as const, function: { name, description, parameters: { type: "object", properties, required } } };
}

function historyTurn(user: SoakUser, turn: number): Array<Record<string, unknown>> {
  return [
    { role: "user", content: `Step ${turn + 1} for ${user.name}: look at module ${turn + 1} of the service and tell me what it does. ${RULES[turn % RULES.length]}` },
    { role: "assistant", content: `Module ${turn + 1} parses the incoming requests, validates them and hands them to the router. ${"It keeps no state between calls. ".repeat(3)}` },
  ];
}

export function tagOf(seq: number): string {
  return `[soak #${seq}]`;
}

const TAG_PATTERN = /\[soak #(\d+)\]/g;

/** The OpenAI chat completion request for `plan`, as JSON. */
export function requestBody(plan: Plan): string {
  const { user, seq } = plan;
  const messages: Array<Record<string, unknown>> = [{ role: "system", content: SYSTEM_PROMPTS.get(user.name) }];
  for (let turn = 0; turn < plan.historyTurns; turn++) messages.push(...historyTurn(user, turn));
  const tag = tagOf(seq);
  const withTools = plan.intent === "tool-call" || plan.intent === "tools-text" || plan.intent === "agent-turn";
  switch (plan.intent) {
    case "tool-call":
      messages.push({ role: "user", content: `Find the configuration loader and read it; call the tool you need. ${tag}` });
      break;
    case "agent-turn": {
      const callId = `call_${user.name}_${seq}`;
      messages.push({ role: "user", content: "Read the router module and summarise it." });
      messages.push({
        role: "assistant",
        content: null,
        tool_calls: [{ id: callId, type: "function", function: { name: "read_file", arguments: JSON.stringify({ path: "src/router.ts" }) } }],
      });
      messages.push({ role: "tool", tool_call_id: callId, content: `export function route(request) {\n  return pick(request);\n}\n// ${tag}` });
      break;
    }
    case "cancel":
      messages.push({ role: "user", content: `Write a long explanation of the whole code base. ${tag}` });
      break;
    default:
      messages.push({ role: "user", content: `What should I change next in this code? ${tag}` });
  }
  const body: Record<string, unknown> = { model: plan.model, messages, max_tokens: plan.maxTokens, stream: plan.stream };
  if (plan.includeUsage) body.stream_options = { include_usage: true };
  if (withTools) body.tools = TOOLS;
  return JSON.stringify(body);
}

// --- Answers --------------------------------------------------------------------------------------

const WORDS = ["the", "router", "reads", "each", "request", "and", "checks", "its", "limits", "before", "calling", "Bedrock", "then", "records", "usage", "in", "ledger", "so", "nothing", "is", "lost"];

function answerText(seed: number, seq: number, minChars: number, maxChars: number): string {
  const random = rngFor(seed, seq, 2);
  const target = minChars + Math.floor(random() * (maxChars - minChars));
  let text = `Answer ${seq}:`;
  while (text.length < target) text += ` ${pick(random, WORDS)}`;
  return `${text}.`;
}

function toolCallOf(seq: number): { name: string; arguments: Record<string, unknown> } {
  return seq % 3 === 0
    ? { name: "execute_command", arguments: { command: `npm test -- --run module-${seq % 50}`, requires_approval: false } }
    : { name: "read_file", arguments: { path: `src/config/loader-${seq % 50}.ts` } };
}

/** What the client should receive for `plan`. */
export function expectedAnswer(seed: number, plan: Plan): ExpectedAnswer {
  if (plan.intent === "cancel") return { cancel: true };
  if (plan.intent === "tool-call") return { text: "Let me look at that file first.", tool: toolCallOf(plan.seq) };
  return { text: answerText(seed, plan.seq, 80, 600) };
}

/** The emulator's answer to a Bedrock call for `plan` (when it is not throttled). */
export function scenarioFor(seed: number, plan: Plan): Scenario {
  const random = rngFor(seed, plan.seq, 3);
  if (plan.intent === "cancel") {
    // ~1.2 s of streaming: the client cancels after the first content chunk, long before the end.
    return { content: [{ text: answerText(seed, plan.seq, 2_000, 2_400) }], chunks: 60, chunkDelayMs: 20 };
  }
  if (plan.intent === "tool-call") {
    const call = toolCallOf(plan.seq);
    return { content: [{ text: "Let me look at that file first." }, { toolUse: { name: call.name, input: call.arguments } }], chunks: 3 };
  }
  const answer = expectedAnswer(seed, plan) as { text: string };
  return { content: [{ text: answer.text }], chunks: 3 + Math.floor(random() * 8) };
}

/** The request number a Bedrock call belongs to: the last tag in its messages. */
export function seqOfCall(call: RecordedCall): number | undefined {
  const text = JSON.stringify(call.body.messages ?? []);
  let seq: number | undefined;
  for (const match of text.matchAll(TAG_PATTERN)) seq = Number(match[1]);
  return seq;
}

// --- The emulator's side: scenarios and per-request usage ------------------------------------------

export interface Usage4 {
  input: number;
  cacheRead: number;
  cacheWrite: number;
  output: number;
}

export const zeroUsage = (): Usage4 => ({ input: 0, cacheRead: 0, cacheWrite: 0, output: 0 });

export function addUsage(sum: Usage4, u: Usage4): void {
  sum.input += u.input;
  sum.cacheRead += u.cacheRead;
  sum.cacheWrite += u.cacheWrite;
  sum.output += u.output;
}

export function sameUsage(a: Usage4, b: Usage4): boolean {
  return a.input === b.input && a.cacheRead === b.cacheRead && a.cacheWrite === b.cacheWrite && a.output === b.output;
}

/** What the emulator reported, per request, for every Bedrock call the broker made. */
export interface RequestCalls {
  calls: number;
  throttled: number;
  /** Calls whose usage the emulator reported (its metadata frame or Converse body was written). */
  reported: number;
  usage: Usage4;
}

/**
 * Decides each Bedrock call's scenario and keeps, per request, what the emulator reported. Calls
 * are held only while they run (the emulator sets `usage`, `finished` and `aborted` on the object
 * it passed to the handler), then folded into per-request sums, so memory stays flat however long
 * the soak runs.
 */
export class CallTracker {
  readonly byRequest = new Map<number, RequestCalls>();
  calls = 0;
  throttled = 0;
  aborted = 0;
  /** Calls without a soak tag: the broker sent something the soak never asked for. */
  untagged = 0;
  readonly totals: Usage4 = zeroUsage();
  private pending: Array<{ call: RecordedCall; seq: number | undefined }> = [];
  private readonly random: () => number;

  constructor(private readonly seed: number) {
    this.random = rng(seed ^ 0x5eed);
  }

  handle(call: RecordedCall): Scenario | undefined {
    this.calls += 1;
    const seq = seqOfCall(call);
    this.pending.push({ call, seq });
    const entry = seq === undefined ? undefined : this.entry(seq);
    if (entry) entry.calls += 1;
    else this.untagged += 1;
    if (this.shouldThrottle(call)) {
      this.throttled += 1;
      if (entry) entry.throttled += 1;
      return { error: { name: "ThrottlingException", message: "Too many requests, please wait before trying again." } };
    }
    return seq === undefined ? undefined : scenarioFor(this.seed, planFor(this.seed, seq));
  }

  /** Folds calls that are over into the per-request sums; `final` folds every call left. */
  sweep(final = false): number {
    const keep: typeof this.pending = [];
    for (const item of this.pending) {
      if (!final && !item.call.finished && !item.call.aborted) {
        keep.push(item);
        continue;
      }
      if (item.call.aborted) this.aborted += 1;
      const usage = item.call.usage;
      if (usage !== undefined) {
        const u: Usage4 = { input: usage.inputTokens, cacheRead: usage.cacheReadInputTokens, cacheWrite: usage.cacheWriteInputTokens, output: usage.outputTokens };
        addUsage(this.totals, u);
        if (item.seq !== undefined) {
          const entry = this.entry(item.seq);
          entry.reported += 1;
          addUsage(entry.usage, u);
        }
      }
    }
    const stillRunning = keep.length;
    this.pending = keep;
    return stillRunning;
  }

  usageOf(seq: number): Usage4 {
    return this.byRequest.get(seq)?.usage ?? zeroUsage();
  }

  private entry(seq: number): RequestCalls {
    let entry = this.byRequest.get(seq);
    if (!entry) this.byRequest.set(seq, (entry = { calls: 0, throttled: 0, reported: 0, usage: zeroUsage() }));
    return entry;
  }

  private shouldThrottle(call: RecordedCall): boolean {
    if (call.region === THROTTLED_REGION) return this.random() < THROTTLE_SHARE;
    if (call.region === OTHER_REGION && call.modelId.includes("claude-sonnet-4-5")) return this.random() < SONNET45_OTHER_REGION_THROTTLE_SHARE;
    return false;
  }
}
