// Secrets that must not leave the broker inside captured prompt or completion text: keys that a
// developer pasted into a conversation, or that a tool read from a file. Each match is replaced
// by a marker that says what was removed, so an evaluator sees that something was there.
const PATTERNS: ReadonlyArray<{ label: string; pattern: RegExp }> = [
  { label: "private key", pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g },
  { label: "tollgate key", pattern: /\btg_[A-Za-z0-9_-]{20,}/g },
  { label: "aws access key id", pattern: /\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16}\b/g },
  { label: "aws secret", pattern: /(aws_secret_access_key|aws_session_token|secretAccessKey|sessionToken)(["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{16,}/gi },
  { label: "bearer token", pattern: /(\bBearer\s+)[A-Za-z0-9._~+/=-]{16,}/g },
  { label: "github token", pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/g },
  { label: "api key", pattern: /\b(?:sk-[A-Za-z0-9_-]{20,}|sk-lf-[A-Za-z0-9-]{8,}|xox[abprs]-[A-Za-z0-9-]{10,})/g },
  { label: "password", pattern: /(password|passwd|secret|api[_-]?key|token)(["']?\s*[:=]\s*["']?)[^\s"',;]{8,}/gi },
];

/** `text` with every secret-looking value replaced by "[redacted …]". */
export function redactSecrets(text: string): string {
  let out = text;
  for (const { label, pattern } of PATTERNS) {
    out = out.replace(pattern, (...match: string[]) => {
      // Patterns with a leading group keep the name (e.g. "password=") and drop the value.
      const keep = typeof match[1] === "string" && typeof match[2] === "string" && /[:=\s]/.test(match[2]) ? match[1] + match[2] : typeof match[1] === "string" && /^Bearer/i.test(match[1]) ? match[1] : "";
      return `${keep}[redacted ${label}]`;
    });
  }
  return out;
}
