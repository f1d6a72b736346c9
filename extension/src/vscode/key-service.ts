// The developer's key from its sources (core/key-sources.ts), with SecretStorage behind it.
import * as vscode from "vscode";
import { KEY_SOURCE_LABELS, resolveDeveloperKey, type ResolvedKey } from "../core/key-sources.js";
import type { Logger } from "../core/log.js";

export const SECRET_KEY = "tollgate.apiKey";
const CACHE_MS = 5000;

export class KeyService implements vscode.Disposable {
  private cached: { at: number; value: Promise<ResolvedKey> } | undefined;
  private lastWarnings = "";
  private lastSource: string | undefined = "unset";
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly configDir: string,
    private readonly log: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.subscription = secrets.onDidChange((event) => {
      if (event.key === SECRET_KEY) {
        this.invalidate();
        this.emitter.fire();
      }
    });
  }

  invalidate(): void {
    this.cached = undefined;
  }

  /** The current key and where it came from (cached for a few seconds; sources are cheap to re-read). */
  resolve(): Promise<ResolvedKey> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > CACHE_MS) {
      const value = resolveDeveloperKey({
        secret: async () => {
          try {
            return await this.secrets.get(SECRET_KEY);
          } catch (error) {
            this.log.warn(`secret storage unavailable: ${(error as Error).message}`);
            return undefined;
          }
        },
        env: this.env,
        configDir: this.configDir,
      }).then((resolved) => {
        this.report(resolved);
        return resolved;
      });
      this.cached = { at: now, value };
    }
    return this.cached.value;
  }

  async key(): Promise<string | undefined> {
    return (await this.resolve()).key;
  }

  async store(key: string): Promise<void> {
    await this.secrets.store(SECRET_KEY, key);
    this.invalidate();
  }

  async forget(): Promise<void> {
    await this.secrets.delete(SECRET_KEY);
    this.invalidate();
  }

  private report(resolved: ResolvedKey): void {
    const warnings = resolved.warnings.join("\n");
    if (warnings && warnings !== this.lastWarnings) {
      for (const warning of resolved.warnings) this.log.warn(warning);
      void vscode.window.showWarningMessage(`Tollgate: ${resolved.warnings[0] ?? ""}`);
    }
    this.lastWarnings = warnings;
    if (resolved.source !== this.lastSource) {
      this.log.info(resolved.source ? `key: from ${KEY_SOURCE_LABELS[resolved.source]}` : "key: none (not signed in)");
      this.lastSource = resolved.source;
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }
}
