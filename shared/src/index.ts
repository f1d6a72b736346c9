export * from "./pricing/index.js";
