// What the admin CLI commands share: where the broker is and the admin token to present.
import { readFileSync } from "node:fs";
import type { OptionValues } from "./program.js";

export interface AdminTarget {
  url: string;
  token: string;
}

export class CliError extends Error {
  override readonly name = "CliError";
}

/** The broker's URL and the admin token from an admin command's options, or one line saying what is wrong. */
export function adminTarget(values: OptionValues): AdminTarget {
  const base = typeof values.url === "string" ? values.url : process.env.TOLLGATE_URL;
  if (!base) throw new CliError("--url URL is required (or set TOLLGATE_URL)");
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new CliError(`--url ${JSON.stringify(base)} is not a URL; write it with its scheme, e.g. http://${base}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliError(`--url ${JSON.stringify(base)} must start with http:// or https://, e.g. http://127.0.0.1:7600`);
  }
  const tokenFile = typeof values["admin-token-file"] === "string" ? values["admin-token-file"] : undefined;
  const token = tokenFile ? readTokenFile(tokenFile) : process.env.TOLLGATE_ADMIN_TOKEN;
  if (!token) throw new CliError("an admin token is required: --admin-token-file FILE or TOLLGATE_ADMIN_TOKEN");
  return { url: base.replace(/\/+$/, ""), token };
}

function readTokenFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "it is a directory" : (code ?? String(error));
    throw new CliError(`cannot read the admin token file ${file}: ${why}`);
  }
  // An admin's own file holds their token; a line "NAME TOKEN" (the broker's format) works as well.
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"));
  if (lines.length === 0) throw new CliError(`the admin token file ${file} is empty`);
  if (lines.length > 1) throw new CliError(`the admin token file ${file} holds ${lines.length} credentials; give the CLI a file with only yours`);
  const fields = lines[0]!.split(/\s+/);
  return fields[fields.length - 1]!;
}

export async function adminFetch(target: AdminTarget, path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${target.token}`, "content-type": "application/json", ...(init.headers ?? {}) },
    });
  } catch (error) {
    const cause = (error as Error).cause as { code?: string; message?: string } | undefined;
    throw new CliError(`cannot reach the broker at ${target.url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
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
