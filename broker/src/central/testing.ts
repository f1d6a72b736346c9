// A database of its own for each test (or benchmark), on the machine's PostgreSQL.
import { randomBytes } from "node:crypto";
import pg from "pg";

export const TEST_POSTGRES_URL = process.env.TOLLGATE_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export async function createTestDatabase(baseUrl = TEST_POSTGRES_URL): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `tollgate_t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
