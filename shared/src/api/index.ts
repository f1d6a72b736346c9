export * from "./user-api.js";
export * from "./admin-api.js";
export * from "./format-usd.js";
