// Reasoning signatures the emulator can check later: Bedrock refuses a thinking block that it did
// not sign itself for exactly that text, and brokers that rebuild history tend to lose them.

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export class ReasoningSigner {
  private readonly secret = randomBytes(32);

  sign(text: string): string {
    return createHmac("sha256", this.secret).update(text, "utf8").digest("base64");
  }

  verify(text: string, signature: string): boolean {
    const expected = Buffer.from(this.sign(text), "utf8");
    const given = Buffer.from(signature, "utf8");
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
