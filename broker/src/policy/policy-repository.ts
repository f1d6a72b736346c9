// Every policy version the broker has served, persisted in the data dir, so a restarted broker serves
// the last pushed version and every change stays auditable (when, what changed, from where).
// Behind an interface: a fleet of brokers will keep versions in PostgreSQL instead.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Awaitable } from "../limits/types.js";

export type PolicyChangeKind = "seed" | "push" | "rollback";

export interface PolicyVersionMeta {
  version: number;
  createdAt: string;
  kind: PolicyChangeKind;
  /** Who made the change: the client address for pushes, "policy file" for seeds. */
  by: string;
  /** Readable lines describing what changed from the previous version. */
  changes: string[];
  /** For rollbacks: the version whose content was restored. */
  restoredFrom?: number;
  /** Why, in the admin's words (`policy push --comment`), when they gave one. */
  comment?: string;
}

export interface PolicyVersion extends PolicyVersionMeta {
  /** The policy document as pushed (it holds key hashes only, never keys). */
  document: unknown;
}

/** Files in the data dir (one broker), or PostgreSQL (a fleet: every broker sees every version). */
export interface PolicyRepository {
  latest(): Awaitable<PolicyVersion | undefined>;
  get(version: number): Awaitable<PolicyVersion | undefined>;
  list(): Awaitable<PolicyVersionMeta[]>;
  /** Stores the next version (the latest + 1) and returns it. */
  append(entry: Omit<PolicyVersion, "version" | "createdAt">): Awaitable<PolicyVersion>;
  /** Atomically: stores `entry` as version 1 if there is no version yet; returns the latest either way. */
  seedIfEmpty?(entry: Omit<PolicyVersion, "version" | "createdAt">): Promise<{ seeded: boolean; latest: PolicyVersion }>;
}

const FILE = /^v(\d{6,})\.json$/;

export class FilePolicyRepository implements PolicyRepository {
  private readonly dir: string;
  private readonly versions: PolicyVersion[] = [];

  constructor(dataDir: string) {
    this.dir = join(dataDir, "policy-versions");
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const files = readdirSync(this.dir)
      .map((name) => ({ name, match: FILE.exec(name) }))
      .filter((entry): entry is { name: string; match: RegExpExecArray } => entry.match !== null)
      .sort((a, b) => Number(a.match[1]) - Number(b.match[1]));
    for (const { name } of files) this.versions.push(JSON.parse(readFileSync(join(this.dir, name), "utf8")) as PolicyVersion);
  }

  latest(): PolicyVersion | undefined {
    return this.versions.at(-1);
  }

  get(version: number): PolicyVersion | undefined {
    return this.versions.find((entry) => entry.version === version);
  }

  list(): PolicyVersionMeta[] {
    return this.versions.map(({ document: _document, ...meta }) => meta);
  }

  append(entry: Omit<PolicyVersion, "version" | "createdAt">): PolicyVersion {
    const version: PolicyVersion = { ...entry, version: (this.latest()?.version ?? 0) + 1, createdAt: new Date().toISOString() };
    const name = `v${String(version.version).padStart(6, "0")}.json`;
    const temp = join(this.dir, `.${name}.tmp`);
    // Write, flush, then rename: a crash leaves either the old set of versions or the new one.
    writeFileSync(temp, `${JSON.stringify(version, null, 2)}\n`, { mode: 0o600 });
    const fd = openSync(temp, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, join(this.dir, name));
    const dirFd = openSync(this.dir, "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    this.versions.push(version);
    return version;
  }
}
