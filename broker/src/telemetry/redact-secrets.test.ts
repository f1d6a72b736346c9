import { describe, expect, it } from "vitest";
import { redactSecrets } from "./redact-secrets.js";

describe("redactSecrets", () => {
  it.each([
    ["key AKIAIOSFODNN7EXAMPLE here", "key [redacted aws access key id] here"],
    ["aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = [redacted aws secret]"],
    ["Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc", "Authorization: Bearer [redacted bearer token]"],
    ["use tg_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd", "use [redacted tollgate key]"],
    ["token ghp_0123456789abcdefghijABCDEFGHIJ0123456789", "token [redacted github token]"],
    ['{"password": "hunter2hunter2"}', '{"password": "[redacted password]"}'],
    ["-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "[redacted private key]"],
  ])("%s", (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });

  it("leaves ordinary text alone", () => {
    const text = "Refactor the token bucket in limits/window.ts; the password field is optional.";
    expect(redactSecrets(text)).toBe(text);
  });
});
