// Secrets named by a file rather than written into a URL (`?password_file=/etc/tollgate/pg-password`):
// the URL may then sit in a unit file or a process listing without leaking the password.
import { readFileSync, statSync } from "node:fs";

export class SecretFileError extends Error {
  override readonly name = "SecretFileError";
}

/** The file's content, trimmed; refused unless only its owner may read it (mode 0600 or 0400). */
export function readSecretFile(path: string, what: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    throw new SecretFileError(`${what}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if ((mode & 0o077) !== 0) {
    throw new SecretFileError(`${what}: ${path} may be read by other users (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  }
  const secret = readFileSync(path, "utf8").trim();
  if (secret === "") throw new SecretFileError(`${what}: ${path} is empty`);
  return secret;
}
