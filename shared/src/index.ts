export * from "./pricing/index.js";
export * from "./policy/index.js";
export * from "./openai/index.js";
export * from "./api/index.js";
