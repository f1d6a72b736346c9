// Key comparison doesn't leak timing: the admin token is compared as SHA-256 digests with
// crypto.timingSafeEqual (equal-length buffers whatever was presented), and a user key is looked up
// by its SHA-256 digest in a map, so neither the time nor the path taken depends on how many leading
// characters of a guess were right. Checked by observing the calls, not by timing (which would flake).
import { hashApiKey, keyHashEntry, parsePolicy, type Policy } from "@tollgate/shared";
import type { NextFunction, Request, Response } from "express";
import { describe, expect, it, vi } from "vitest";

const compared = vi.hoisted(() => [] as Array<[Buffer, Buffer]>);
vi.mock("node:crypto", async (importOriginal) => {
  const crypto = await importOriginal<typeof import("node:crypto")>();
  return {
    ...crypto,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      compared.push([Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)]);
      return crypto.timingSafeEqual(a, b);
    },
  };
});

const { AdminToken } = await import("../../broker/src/auth/admin-token.js");
const { requireUser } = await import("../../broker/src/auth/user-auth.js");
const { ApiError } = await import("../../broker/src/errors.js");

const SECRET = "admin-secret-0123456789abcdef-xyz";

describe("the admin token", () => {
  it("is compared with timingSafeEqual on two 32-byte digests, whatever is presented", () => {
    const token = AdminToken.fromSecret(SECRET);
    const guesses = ["", "a", SECRET.slice(0, -1), `${SECRET}x`, SECRET.replace(/.$/, "!"), "x".repeat(10_000), SECRET];
    for (const guess of guesses) {
      compared.length = 0;
      expect(token.matches(guess)).toBe(guess === SECRET);
      expect(compared).toHaveLength(1);
      const [a, b] = compared[0] ?? [];
      expect([a?.length, b?.length]).toEqual([32, 32]);
      // Neither side is the presented text itself.
      expect(a?.toString("utf8")).not.toContain(guess || "\u0000");
    }
  });

  it("is never compared when absent: no token means no match", () => {
    compared.length = 0;
    expect(AdminToken.fromSecret(SECRET).matches(undefined)).toBe(false);
    expect(compared).toHaveLength(0);
  });
});

describe("user keys", () => {
  const KEY = "tg_the-real-key-0000000000000000000001";

  /** A policy whose key index records every lookup. */
  function recordingPolicy(): { policy: Policy & { version: number; loadedAtSeconds: number }; lookups: unknown[] } {
    const parsed = parsePolicy({
      models: { m: { route: [{ id: "main", modelId: "us.anthropic.claude-sonnet-4-20250514-v1:0", region: "us-east-1" }] } },
      teams: { eng: { models: ["*"] } },
      users: { alice: { team: "eng", keys: [keyHashEntry(KEY)] } },
    });
    if (!parsed.ok) throw new Error("test policy invalid");
    const lookups: unknown[] = [];
    const index = parsed.policy.userByKeyHash;
    const recording = new Proxy(index, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          lookups.push(...args);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    return { policy: { ...parsed.policy, userByKeyHash: recording, version: 1, loadedAtSeconds: 0 }, lookups };
  }

  function authenticate(policy: Policy & { version: number; loadedAtSeconds: number }, key: string): unknown {
    let outcome: unknown = "not called";
    const req = { headers: { authorization: `Bearer ${key}` } } as unknown as Request;
    const res = { locals: {} } as unknown as Response;
    const next: NextFunction = (error?: unknown) => {
      outcome = error ?? "ok";
    };
    requireUser({ current: () => policy })(req, res, next);
    return outcome;
  }

  it("are looked up once each, by their SHA-256 digest, never by the key's text", () => {
    const { policy, lookups } = recordingPolicy();
    const guesses = [KEY, KEY.slice(0, -1), `${KEY}0`, KEY.replace(/1$/, "2"), "tg_x", "y".repeat(5000)];
    for (const guess of guesses) {
      lookups.length = 0;
      const outcome = authenticate(policy, guess);
      if (guess === KEY) expect(outcome).toBe("ok");
      else expect(ApiError.is(outcome) && outcome.code).toBe("invalid_api_key");
      expect(lookups).toEqual([hashApiKey(guess)]);
      expect(lookups[0]).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});
