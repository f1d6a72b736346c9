export * from "./pricing/index.js";
export * from "./policy/index.js";
export * from "./openai/index.js";
