// Policy changes: validate, persist a new version, then swap it in atomically. Requests already in
// flight keep the policy object they started with; an invalid push changes nothing.
import { formatPolicyProblems, lockoutWarning, parsePolicy, parsePolicyJson, policyDiff, type Policy, type PolicyFile } from "@tollgate/shared";
import type { Logger } from "../log.js";
import type { PolicyRepository, PolicyVersion, PolicyVersionMeta } from "./policy-repository.js";
import type { MemoryPolicyStore } from "./policy-store.js";

export type PolicyChangeResult =
  | { ok: true; version: PolicyVersionMeta }
  /** `lockout`: valid, but no one could sign in; served only when forced. */
  | { ok: false; problems: string[]; reason?: "lockout" };

export interface PushOptions {
  comment?: string | undefined;
  /** Serve it even if it locks every user out. */
  force?: boolean | undefined;
}

interface PolicyChange {
  kind: "push" | "rollback";
  by: string;
  comment: string | undefined;
  restoredFrom?: number;
}

export class PolicyService {
  constructor(
    private readonly repository: PolicyRepository,
    private readonly store: MemoryPolicyStore,
    private readonly logger: Logger,
    /** Hex SHA-256 of each admin token: a policy must never make one a user key. */
    private readonly adminTokenHashes: readonly string[],
  ) {}

  async current(): Promise<{ version: number; document: unknown }> {
    const latest = await this.repository.latest();
    return { version: latest?.version ?? 0, document: latest?.document ?? this.store.current().source };
  }

  /** One version with its document, or undefined. */
  async version(version: number): Promise<PolicyVersion | undefined> {
    return this.repository.get(version);
  }

  versions(): Promise<PolicyVersionMeta[]> | PolicyVersionMeta[] {
    return this.repository.list();
  }

  async push(document: unknown, by: string, options: PushOptions = {}): Promise<PolicyChangeResult> {
    const checked = this.check(document);
    if (!checked.ok) return checked;
    const lockout = lockoutWarning(checked.policy);
    if (lockout && !options.force) return { ok: false, reason: "lockout", problems: [`${lockout}; push with --force (?force=true) to serve it anyway`] };
    return { ok: true, version: await this.commit(checked.policy, document, { kind: "push", by, comment: options.comment }) };
  }

  /** As `push`, from the JSON text: syntax errors with line and column, and repeated keys, refused too. */
  async pushJson(text: string, by: string, options: PushOptions = {}): Promise<PolicyChangeResult> {
    const parsed = parsePolicyJson(text);
    if (!parsed.ok) return { ok: false, problems: formatPolicyProblems(parsed.problems) };
    return this.push(JSON.parse(text.replace(/^\uFEFF/, "")) as unknown, by, options);
  }

  async rollback(version: number, by: string, comment?: string): Promise<PolicyChangeResult> {
    const target = await this.repository.get(version);
    if (!target) return { ok: false, problems: [`version: no policy version ${version}; see GET /admin/policy/versions`] };
    const checked = this.check(target.document);
    if (!checked.ok) return checked;
    return { ok: true, version: await this.commit(checked.policy, target.document, { kind: "rollback", by, comment, restoredFrom: version }) };
  }

  private check(document: unknown): { ok: true; policy: Policy } | { ok: false; problems: string[] } {
    const result = parsePolicy(document);
    if (!result.ok) return { ok: false, problems: formatPolicyProblems(result.problems) };
    const clash = this.adminTokenHashes.find((hash) => result.policy.userByKeyHash.has(hash));
    if (clash) {
      const user = result.policy.userByKeyHash.get(clash);
      return { ok: false, problems: [`users.${user}.keys: one of these keys is the admin token; admin and user credentials must differ`] };
    }
    return { ok: true, policy: result.policy };
  }

  private async commit(policy: Policy, document: unknown, change: PolicyChange): Promise<PolicyVersionMeta> {
    const { kind, by, comment, restoredFrom } = change;
    const previous = (await this.current()).document as PolicyFile;
    const changes = policyDiff(previous, document as PolicyFile);
    const saved: PolicyVersion = await this.repository.append({
      kind,
      by,
      changes,
      document,
      ...(restoredFrom !== undefined ? { restoredFrom } : {}),
      ...(comment ? { comment } : {}),
    });
    this.store.replace(policy, saved.version);
    this.logger.info({ version: saved.version, kind, by, changes, comment }, "policy changed");
    const { document: _document, ...meta } = saved;
    return meta;
  }
}

/** How the --policy file relates to the stored versions at start-up. */
export type PolicyMode = "seed" | "file";

/**
 * At start-up. `seed` (default): the stored latest version wins over the --policy file, which only
 * seeds an empty store (a restarted broker keeps serving what admins pushed, not an older file on
 * disk). `file`: the file is the truth (policy kept in git): when it differs from the latest stored
 * version it is stored as the next version, with its diff, and served.
 */
export async function initialPolicy(
  repository: PolicyRepository,
  filePolicy: Policy,
  fileDocument: unknown,
  logger: Logger,
  mode: PolicyMode = "seed",
): Promise<{ policy: Policy; version: number }> {
  const seed = { kind: "seed" as const, by: "policy file", changes: ["initial policy from the --policy file"], document: fileDocument };
  // Shared stores seed atomically: brokers of a fleet starting together make one version 1, not three.
  const shared = repository.seedIfEmpty ? await repository.seedIfEmpty(seed) : undefined;
  if (shared?.seeded) return { policy: filePolicy, version: shared.latest.version };
  const latest = shared?.latest ?? (await repository.latest());
  if (!latest) {
    const seeded = await repository.append(seed);
    return { policy: filePolicy, version: seeded.version };
  }
  // Compared with sorted keys: PostgreSQL's jsonb keeps a document's keys in its own order.
  const same = canonicalJson(latest.document) === canonicalJson(fileDocument);
  if (!same && mode === "file") {
    const changes = policyDiff(latest.document as PolicyFile, fileDocument as PolicyFile);
    const stored = await repository.append({ kind: "push", by: "policy file (--policy-mode file)", changes, document: fileDocument, comment: "served from the --policy file at start-up" });
    logger.info({ version: stored.version, replaced: latest.version, changes }, "the --policy file differs from the stored policy: stored and serving it (--policy-mode file)");
    process.stderr.write(`tollgate serve: serving the --policy file as policy version ${stored.version} (--policy-mode file; it replaced version ${latest.version})\n`);
    return { policy: filePolicy, version: stored.version };
  }
  const stored = parsePolicy(latest.document);
  if (!stored.ok) throw new Error(`stored policy version ${latest.version} no longer validates: ${formatPolicyProblems(stored.problems).join("; ")}`);
  if (!same) {
    const origin = latest.kind === "seed" ? `the seed from an earlier --policy file, ${latest.createdAt}` : `a ${latest.kind} by ${latest.by}, ${latest.createdAt}`;
    const why = `serving stored policy version ${latest.version} (${origin}), not the --policy file, which differs: the file only seeds an empty store. To serve the file, push it (tollgate policy push) or start with --policy-mode file`;
    logger.warn({ version: latest.version, kind: latest.kind, storedAt: latest.createdAt }, why);
    process.stderr.write(`tollgate serve: ${why}\n`);
  }
  return { policy: stored.policy, version: latest.version };
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}
