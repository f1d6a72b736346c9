// What the admin CLI commands share: where the broker is and the admin token to present.
import { readFileSync } from "node:fs";

export interface AdminTarget {
  url: string;
  token: string;
}

export class CliError extends Error {
  override readonly name = "CliError";
}

export function adminTarget(url: string | undefined, tokenFile: string | undefined): AdminTarget {
  const base = url ?? process.env.TOLLGATE_URL;
  if (!base) throw new CliError("--url URL is required (or set TOLLGATE_URL)");
  const token = tokenFile ? readFileSync(tokenFile, "utf8").trim() : process.env.TOLLGATE_ADMIN_TOKEN;
  if (!token) throw new CliError("an admin token is required: --admin-token-file FILE or TOLLGATE_ADMIN_TOKEN");
  return { url: base.replace(/\/+$/, ""), token };
}

export async function adminFetch(target: AdminTarget, path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${target.token}`, "content-type": "application/json", ...(init.headers ?? {}) },
    });
  } catch (error) {
    throw new CliError(`cannot reach the broker at ${target.url}: ${(error as Error).cause ?? (error as Error).message}`);
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text for the error message.
  }
  if (response.status === 401 || response.status === 403) {
    throw new CliError(`the broker refused the admin token (${response.status}): ${errorMessage(body)}`);
  }
  return { status: response.status, body };
}

export function errorMessage(body: unknown): string {
  const error = (body as { error?: { message?: string } } | undefined)?.error;
  return error?.message ?? (typeof body === "string" ? body : JSON.stringify(body));
}
