// Policy versions in PostgreSQL: a push to any broker becomes the next global version, announced to
// every broker with NOTIFY in the same transaction (delivered at commit, so a broker that hears of
// version N can read it).
import type pg from "pg";
import type { PolicyRepository, PolicyVersion, PolicyVersionMeta } from "../policy/policy-repository.js";
import { centralError } from "./errors.js";

export const POLICY_CHANNEL = "tollgate_policy";
/** Serialises appends across brokers (a transaction-scoped advisory lock). */
const POLICY_LOCK_KEY = 7_461_727_163_002;

interface VersionRow {
  version: number;
  created_at: Date;
  kind: PolicyVersion["kind"];
  by: string;
  changes: string[];
  document?: unknown;
  restored_from: number | null;
  comment: string | null;
}

function meta(row: VersionRow): PolicyVersionMeta {
  return {
    version: row.version,
    createdAt: row.created_at.toISOString(),
    kind: row.kind,
    by: row.by,
    changes: row.changes,
    ...(row.restored_from !== null ? { restoredFrom: row.restored_from } : {}),
    ...(row.comment !== null ? { comment: row.comment } : {}),
  };
}

export class PgPolicyRepository implements PolicyRepository {
  constructor(private readonly pool: pg.Pool) {}

  async latest(): Promise<PolicyVersion | undefined> {
    return this.one("SELECT * FROM policy_versions ORDER BY version DESC LIMIT 1", []);
  }

  async get(version: number): Promise<PolicyVersion | undefined> {
    return this.one("SELECT * FROM policy_versions WHERE version = $1", [version]);
  }

  async list(): Promise<PolicyVersionMeta[]> {
    try {
      const { rows } = await this.pool.query<VersionRow>("SELECT version, created_at, kind, by, changes, restored_from, comment FROM policy_versions ORDER BY version");
      return rows.map(meta);
    } catch (error) {
      throw centralError(error, "policy versions");
    }
  }

  async append(entry: Omit<PolicyVersion, "version" | "createdAt">): Promise<PolicyVersion> {
    return this.transaction(async (client) => {
      const { rows } = await client.query<{ next: number }>("SELECT COALESCE(max(version), 0) + 1 AS next FROM policy_versions");
      return this.insert(client, rows[0]!.next, entry);
    });
  }

  /**
   * The seed of an empty store, once however many brokers start together: the first stores the
   * --policy file as version 1, the others find it there.
   */
  async seedIfEmpty(entry: Omit<PolicyVersion, "version" | "createdAt">): Promise<{ seeded: boolean; latest: PolicyVersion }> {
    return this.transaction(async (client) => {
      const existing = await client.query<VersionRow>("SELECT * FROM policy_versions ORDER BY version DESC LIMIT 1");
      if (existing.rows[0]) return { seeded: false, latest: full(existing.rows[0]) };
      return { seeded: true, latest: await this.insert(client, 1, entry) };
    });
  }

  private async insert(client: pg.PoolClient, version: number, entry: Omit<PolicyVersion, "version" | "createdAt">): Promise<PolicyVersion> {
    const { rows } = await client.query<VersionRow>(
      "INSERT INTO policy_versions (version, kind, by, changes, document, restored_from, comment) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
      [version, entry.kind, entry.by, JSON.stringify(entry.changes), JSON.stringify(entry.document), entry.restoredFrom ?? null, entry.comment ?? null],
    );
    await client.query("SELECT pg_notify($1, $2)", [POLICY_CHANNEL, String(version)]);
    return full(rows[0]!);
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw centralError(error, "policy store");
    }
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock($1)", [POLICY_LOCK_KEY]);
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw centralError(error, "policy store");
    } finally {
      client.release();
    }
  }

  private async one(sql: string, params: unknown[]): Promise<PolicyVersion | undefined> {
    try {
      const { rows } = await this.pool.query<VersionRow>(sql, params);
      return rows[0] ? full(rows[0]) : undefined;
    } catch (error) {
      throw centralError(error, "policy version");
    }
  }
}

function full(row: VersionRow): PolicyVersion {
  return { ...meta(row), document: row.document };
}
