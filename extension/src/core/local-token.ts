// The local endpoint's bearer token: random, made once, kept 0600 in the config dir. Every
// extension host of this OS user reads the same one; other OS users cannot, so they cannot spend
// this developer's budget through the endpoint.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { CONFIG_FILES } from "./config-dir.js";
import type { Logger } from "./log.js";
import { octal, readPrivateFile, writePrivateFile } from "./secure-files.js";

const TOKEN_PATTERN = /^tgl_[A-Za-z0-9_-]{32,}$/;

export function newLocalToken(): string {
  return `tgl_${randomBytes(32).toString("base64url")}`;
}

export function loadOrCreateLocalToken(dir: string, log?: Logger): string {
  const file = join(dir, CONFIG_FILES.localToken);
  const read = readPrivateFile(file);
  if (read.kind === "ok") {
    const token = read.text.trim();
    if (TOKEN_PATTERN.test(token)) return token;
    log?.warn(`${file} does not hold a valid local token; making a new one.`);
  } else if (read.kind === "too-open") {
    // Someone else may have read it: a new token, not just a chmod.
    log?.warn(`${file} had mode ${octal(read.mode)} (readable by others); replaced it with a new token.`);
  } else if (read.kind === "unreadable") {
    log?.warn(`Cannot read ${file} (${read.reason}); making a new local token.`);
  }
  const token = newLocalToken();
  writePrivateFile(file, `${token}\n`);
  return token;
}
