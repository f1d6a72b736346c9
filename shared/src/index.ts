export * from "./pricing/index.js";
export * from "./policy/index.js";
