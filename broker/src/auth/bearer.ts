/** The token of an `Authorization: Bearer …` header (also accepts `x-api-key`, as some clients send). */
export function bearerToken(authorization: string | undefined, apiKeyHeader: string | string[] | undefined): string | undefined {
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match?.[1]) return match[1];
  }
  if (typeof apiKeyHeader === "string" && apiKeyHeader.trim() !== "") return apiKeyHeader.trim();
  return undefined;
}
