// The admin credential: one secret, from a file (mode 0600) or TOLLGATE_ADMIN_TOKEN. It is kept only
// as a SHA-256 digest and compared in constant time. It is never a user key and vice versa.
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";

export class AdminToken {
  private constructor(private readonly digest: Buffer) {}

  static fromSecret(secret: string): AdminToken {
    if (secret.length < 16) throw new Error("the admin token must be at least 16 characters");
    return new AdminToken(sha256(secret));
  }

  /** Reads the token from a file; refuses files other OS users can read. */
  static fromFile(file: string): AdminToken {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) throw new Error(`admin token file ${file} is readable by other users (mode ${mode.toString(8)}); chmod 600 it`);
    return AdminToken.fromSecret(readFileSync(file, "utf8").trim());
  }

  matches(presented: string | undefined): boolean {
    if (presented === undefined) return false;
    return timingSafeEqual(sha256(presented), this.digest);
  }

  /** Hex digest, to check that no user key in a policy equals the admin token. */
  hashHex(): string {
    return this.digest.toString("hex");
  }
}

function sha256(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}
