// The admin credentials: one or more named secrets, from a file (mode 0600) or TOLLGATE_ADMIN_TOKEN
// (one, named "admin"). Each is kept only as a SHA-256 digest and compared in constant time; the name
// of the one presented is who the audit says made a change. None is ever a user key and vice versa.
//
// File format: one credential per line, `NAME TOKEN` (a line with only a token is named "admin");
// blank lines and lines starting with # are ignored. Names: letters, digits and . _ @ - (max 64).
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const DEFAULT_ADMIN_NAME = "admin";

interface Credential {
  name: string;
  digest: Buffer;
}

export class AdminToken {
  private constructor(private readonly credentials: readonly Credential[]) {}

  static fromSecret(secret: string, name = DEFAULT_ADMIN_NAME): AdminToken {
    return new AdminToken([credential(name, secret, "the admin token")]);
  }

  /** Reads the credentials from a file; refuses files other OS users can read. */
  static fromFile(file: string): AdminToken {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) throw new Error(`admin token file ${file} is readable by other users (mode ${mode.toString(8)}); chmod 600 it`);
    return AdminToken.parse(readFileSync(file, "utf8"), file);
  }

  static parse(text: string, file = "the admin token file"): AdminToken {
    const credentials: Credential[] = [];
    text.split(/\r?\n/).forEach((raw, index) => {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) return;
      const fields = line.split(/\s+/);
      if (fields.length > 2) throw new Error(`${file} line ${index + 1}: expected "NAME TOKEN" or a token alone`);
      const [name, secret] = fields.length === 2 ? [fields[0]!, fields[1]!] : [DEFAULT_ADMIN_NAME, fields[0]!];
      if (!NAME.test(name)) throw new Error(`${file} line ${index + 1}: the name "${name}" must be letters, digits or . _ @ - (max 64)`);
      if (credentials.some((other) => other.name === name)) throw new Error(`${file} line ${index + 1}: the name "${name}" is used twice`);
      const entry = credential(name, secret, `${file} line ${index + 1}: the token`);
      if (credentials.some((other) => other.digest.equals(entry.digest))) throw new Error(`${file} line ${index + 1}: the same token as another line; each admin needs their own`);
      credentials.push(entry);
    });
    if (credentials.length === 0) throw new Error(`${file} holds no admin token`);
    return new AdminToken(credentials);
  }

  /** The name of the credential presented, or undefined. Every credential is compared (constant time each). */
  identify(presented: string | undefined): string | undefined {
    if (presented === undefined) return undefined;
    const digest = sha256(presented);
    let found: string | undefined;
    for (const { name, digest: expected } of this.credentials) if (timingSafeEqual(digest, expected)) found ??= name;
    return found;
  }

  matches(presented: string | undefined): boolean {
    return this.identify(presented) !== undefined;
  }

  /** Hex digests, to check that no user key in a policy equals an admin token. */
  hashesHex(): string[] {
    return this.credentials.map(({ digest }) => digest.toString("hex"));
  }

  /** The credentials' names (never their tokens), for the log at start-up. */
  names(): string[] {
    return this.credentials.map(({ name }) => name);
  }
}

function credential(name: string, secret: string, what: string): Credential {
  if (secret.length < 16) throw new Error(`${what} must be at least 16 characters`);
  return { name, digest: sha256(secret) };
}

function sha256(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}
