import { describe, expect, it } from "vitest";
import { AdminToken } from "./admin-token.js";

const A = "a-token-that-is-long-enough-1";
const B = "b-token-that-is-long-enough-2";

describe("AdminToken", () => {
  it("names each credential of a file; a token alone is 'admin'", () => {
    const tokens = AdminToken.parse(`# admins\nalice ${A}\n\nbob ${B}\n`);
    expect(tokens.identify(A)).toBe("alice");
    expect(tokens.identify(B)).toBe("bob");
    expect(tokens.identify("c-token-that-is-long-enough-3")).toBeUndefined();
    expect(tokens.identify(undefined)).toBeUndefined();
    expect(AdminToken.parse(`${A}\n`).identify(A)).toBe("admin");
    expect(tokens.names()).toEqual(["alice", "bob"]);
  });

  it.each([
    [`alice ${A}\nalice ${B}`, /line 2: the name "alice" is used twice/],
    [`alice ${A}\nbob ${A}`, /line 2: the same token as another line/],
    [`al ice ${A}`, /line 1: expected "NAME TOKEN"/],
    [`alice short`, /line 1: the token must be at least 16 characters/],
    [`bad!name ${A}`, /line 1: the name "bad!name"/],
    [`# nothing\n`, /holds no admin token/],
  ])("refuses %j", (text, message) => {
    expect(() => AdminToken.parse(text, "tokens")).toThrow(message);
  });
});
