import type { Scope } from "./types.js";

/**
 * A stable string per scope, for maps here and keys in a shared store. The team name's length is
 * part of a team-model key because both names may contain `/` or `:` (model names do).
 */
export function scopeKey(scope: Scope): string {
  switch (scope.kind) {
    case "user":
      return `user:${scope.name}`;
    case "team":
      return `team:${scope.name}`;
    case "team-model":
      return `team-model:${scope.team.length}:${scope.team}/${scope.model}`;
  }
}

/** How messages name a scope: `user alice`, `team platform`, `team platform, model claude-opus-4-1`. */
export function scopeLabel(scope: Scope): string {
  switch (scope.kind) {
    case "user":
      return `user ${scope.name}`;
    case "team":
      return `team ${scope.name}`;
    case "team-model":
      return `team ${scope.team}, model ${scope.model}`;
  }
}

/**
 * The scopes a request by `user` (in `team`, if any) for `model` is counted under. Use the same
 * function to build admission requests and to restore from the ledger, so the two always agree.
 */
export function ledgerScopes(who: { user: string; team?: string | undefined; model: string }): Scope[] {
  const scopes: Scope[] = [{ kind: "user", name: who.user }];
  if (who.team !== undefined) {
    scopes.push({ kind: "team", name: who.team }, { kind: "team-model", team: who.team, model: who.model });
  }
  return scopes;
}
