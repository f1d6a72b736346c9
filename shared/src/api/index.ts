export * from "./user-api.js";
