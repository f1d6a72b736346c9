// EC2 instance metadata (IMDSv2), as much of it as the SDK's default credential chain reads:
// a session token, the role name, then the role's temporary credentials.

import { randomBytes } from "node:crypto";
import type { Exchange } from "./exchange.js";
import type { ImdsControl } from "./types.js";

export const IMDS_ROLE_NAME = "tollgate-instance-role";
const CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/";
const CREDENTIAL_LIFETIME_MS = 6 * 60 * 60_000;
// Tokens are kept only to check them; a bound keeps a long benchmark from growing the set.
const MAX_TOKENS = 1000;

export class FakeImds implements ImdsControl {
  available = true;
  credentialRequests = 0;
  private readonly tokens = new Set<string>();

  static handles(path: string): boolean {
    return path.startsWith("/latest/");
  }

  serve(exchange: Exchange): void {
    const text = { "content-type": "text/plain" };
    if (!this.available) return exchange.respond(503, text, "Service Unavailable");
    const path = exchange.path.split("?")[0] ?? "";
    if (path === "/latest/api/token") {
      if (exchange.method !== "PUT") return exchange.respond(405, text, "Method Not Allowed");
      if (exchange.header("x-aws-ec2-metadata-token-ttl-seconds") === undefined) {
        return exchange.respond(400, text, "Missing x-aws-ec2-metadata-token-ttl-seconds");
      }
      return exchange.respond(200, text, this.issueToken());
    }
    const token = exchange.header("x-aws-ec2-metadata-token");
    if (token === undefined || !this.tokens.has(token)) return exchange.respond(401, text, "Unauthorized");
    if (path === CREDENTIALS_PATH) return exchange.respond(200, text, IMDS_ROLE_NAME);
    if (path === `${CREDENTIALS_PATH}${IMDS_ROLE_NAME}`) {
      this.credentialRequests += 1;
      return exchange.respond(200, { "content-type": "application/json" }, JSON.stringify(instanceCredentials()));
    }
    return exchange.respond(404, text, "Not Found");
  }

  reset(): void {
    this.available = true;
    this.credentialRequests = 0;
  }

  private issueToken(): string {
    const token = randomBytes(24).toString("base64url");
    if (this.tokens.size >= MAX_TOKENS) this.tokens.clear();
    this.tokens.add(token);
    return token;
  }
}

function instanceCredentials(): Record<string, string> {
  const now = Date.now();
  return {
    Code: "Success",
    LastUpdated: new Date(now).toISOString(),
    Type: "AWS-HMAC",
    AccessKeyId: `ASIAIMDS${randomKeyChars(12)}`,
    SecretAccessKey: randomBytes(30).toString("base64"),
    Token: randomBytes(96).toString("base64"),
    Expiration: new Date(now + CREDENTIAL_LIFETIME_MS).toISOString(),
  };
}

const KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Upper-case letters and digits, like the random part of a real access key id. */
export function randomKeyChars(count: number): string {
  const bytes = randomBytes(count);
  let chars = "";
  for (const byte of bytes) chars += KEY_ALPHABET[byte % KEY_ALPHABET.length];
  return chars;
}
