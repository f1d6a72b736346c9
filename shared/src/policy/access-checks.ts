import { ALL_MODELS, KEY_HASH_PATTERN } from "./access-schema.js";
import { asRecord } from "./draft.js";
import { formatJsonPath, type PathSegment } from "./json-path.js";
import { suggestKey } from "./known-keys.js";
import type { RawProblem } from "./zod-problems.js";

/*
 * Cross-references between the parts of the policy: a team's models, a user's team and models, key
 * hashes unique across users. Like the model checks these read the raw document item by item, so they
 * run even where zod rejected something else nearby (one bad key must not hide a duplicate next to
 * it), and they stay quiet about values zod already reports (wrong types, malformed hashes).
 */

type Report = (path: PathSegment[], message: string) => void;

/** Problems with references between `models`, `teams` and `users`; paths from the document root. */
export function checkAccess(document: unknown): RawProblem[] {
  const problems: RawProblem[] = [];
  const report: Report = (path, message) => problems.push({ path, message });
  const root = asRecord(document);
  // Every name written under `models`, even one with problems of its own: a broken model entry is
  // reported there, not again wherever a team or user names it.
  const modelNames = Object.keys(asRecord(root.models));
  const teams = asRecord(root.teams);

  const modelsByTeam = new Map<string, ReadonlySet<string>>();
  for (const [teamName, rawTeam] of Object.entries(teams)) {
    const team = asRecord(rawTeam);
    const path = ["teams", teamName];
    const allowed = checkModelList(team.models, [...path, "models"], report, (model) =>
      modelNames.includes(model) ? undefined : unknownModel(model, modelNames),
    );
    if (allowed !== undefined) modelsByTeam.set(teamName, allowed === ALL_MODELS ? new Set(modelNames) : allowed);
    for (const model of Object.keys(asRecord(team.modelLimits))) {
      if (!modelNames.includes(model)) report([...path, "modelLimits", model], unknownModel(model, modelNames));
    }
  }

  // Teams an exporter receives prompt text for must exist: a typo would silently capture nothing.
  for (const [exporterName, rawExporter] of Object.entries(asRecord(asRecord(root.telemetry).exporters))) {
    const teamsList = asRecord(asRecord(rawExporter).content).teams;
    if (!Array.isArray(teamsList)) continue;
    teamsList.forEach((team, index) => {
      if (typeof team === "string" && team !== "*" && !(team in teams)) {
        report(["telemetry", "exporters", exporterName, "content", "teams", index], `unknown team "${team}"; teams: ${Object.keys(teams).join(", ") || "(none)"}`);
      }
    });
  }

  const firstPathByKeyHash = new Map<string, PathSegment[]>();
  for (const [userName, rawUser] of Object.entries(asRecord(root.users))) {
    const user = asRecord(rawUser);
    const path = ["users", userName];
    const teamName = typeof user.team === "string" ? user.team : undefined;
    if (teamName !== undefined && !Object.hasOwn(teams, teamName)) {
      report([...path, "team"], unknownTeam(teamName, Object.keys(teams)));
    }
    const teamModels = teamName === undefined ? undefined : modelsByTeam.get(teamName);
    checkModelList(user.models, [...path, "models"], report, (model) => {
      if (!modelNames.includes(model)) return unknownModel(model, modelNames);
      // Without a valid team list there is nothing to compare with; that problem is reported elsewhere.
      if (teamName !== undefined && teamModels !== undefined && !teamModels.has(model)) {
        return `model "${model}" is not allowed for team "${teamName}" (see ${formatJsonPath(["teams", teamName, "models"])})`;
      }
      return undefined;
    });
    checkKeyHashes(user.keys, [...path, "keys"], firstPathByKeyHash, report);
  }
  return problems;
}

/**
 * Checks the string items of a `models` list; returns the names it allows, `"*"` for all, or
 * undefined when the list is not an array (zod reports that).
 */
function checkModelList(
  value: unknown,
  path: PathSegment[],
  report: Report,
  problemWith: (model: string) => string | undefined,
): ReadonlySet<string> | typeof ALL_MODELS | undefined {
  if (!Array.isArray(value)) return undefined;
  const firstIndex = new Map<string, number>();
  let all = false;
  value.forEach((item: unknown, index) => {
    if (typeof item !== "string") return;
    const first = firstIndex.get(item);
    if (first !== undefined) {
      report([...path, index], `"${item}" is listed twice (first at [${first}])`);
      return;
    }
    firstIndex.set(item, index);
    if (item === ALL_MODELS) {
      all = true;
      if (value.length > 1) report([...path, index], `"${ALL_MODELS}" means every model and must be the only entry`);
      return;
    }
    const problem = problemWith(item);
    if (problem !== undefined) report([...path, index], problem);
  });
  return all ? ALL_MODELS : new Set(firstIndex.keys());
}

/** Each well-formed hash may appear once in the whole policy: a key identifies exactly one user. */
function checkKeyHashes(
  value: unknown,
  path: PathSegment[],
  firstPathByKeyHash: Map<string, PathSegment[]>,
  report: Report,
): void {
  if (!Array.isArray(value)) return;
  value.forEach((item: unknown, index) => {
    if (typeof item !== "string" || !KEY_HASH_PATTERN.test(item)) return;
    const here = [...path, index];
    const first = firstPathByKeyHash.get(item);
    if (first === undefined) firstPathByKeyHash.set(item, here);
    else report(here, `the same key hash is already at ${formatJsonPath(first)}; a key must belong to one user, once`);
  });
}

function unknownModel(model: string, modelNames: readonly string[]): string {
  return withSuggestion(`unknown model "${model}"`, model, modelNames, "`models` defines none");
}

function unknownTeam(team: string, teamNames: readonly string[]): string {
  return withSuggestion(`unknown team "${team}"`, team, teamNames, "`teams` defines none");
}

function withSuggestion(message: string, name: string, known: readonly string[], whenNone: string): string {
  if (known.length === 0) return `${message} (${whenNone})`;
  const suggestion = suggestKey(name, known);
  return suggestion === undefined ? message : `${message} (did you mean "${suggestion}"?)`;
}
