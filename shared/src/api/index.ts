export * from "./user-api.js";
export * from "./admin-api.js";
