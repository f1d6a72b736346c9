// The project name sent as x-tollgate-project: the setting, else the repository name from the git
// remote (origin first), else the workspace folder's name.
import { readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";

/** The repository name from a git config's remote URL (origin preferred): "git@host:org/repo.git" → "repo". */
export function repoNameFromGitConfig(configText: string): string | undefined {
  const remotes = new Map<string, string>();
  let section: string | undefined;
  for (const raw of configText.split(/\r?\n/)) {
    const line = raw.trim();
    const header = /^\[remote\s+"([^"]+)"\]$/.exec(line);
    if (header) {
      section = header[1];
      continue;
    }
    if (line.startsWith("[")) {
      section = undefined;
      continue;
    }
    const url = /^url\s*=\s*(.+)$/.exec(line);
    if (section && url?.[1] && !remotes.has(section)) remotes.set(section, url[1].trim());
  }
  const url = remotes.get("origin") ?? remotes.values().next().value;
  if (!url) return undefined;
  const name = url.replace(/[?#].*$/, "").replace(/\/+$/, "").split(/[/:]/).pop()?.replace(/\.git$/, "");
  return name || undefined;
}

/** Finds the git config of a working tree (a `.git` folder, or a `.git` file pointing elsewhere). */
function gitConfigText(folder: string): string | undefined {
  const dotGit = join(folder, ".git");
  try {
    if (statSync(dotGit).isDirectory()) return readFileSync(join(dotGit, "config"), "utf8");
    const pointer = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, "utf8"))?.[1]?.trim();
    if (!pointer) return undefined;
    const gitDir = resolve(folder, pointer);
    // Worktrees keep the shared config two levels up (…/.git/worktrees/NAME).
    for (const candidate of [join(gitDir, "config"), join(gitDir, "..", "..", "config")]) {
      try {
        return readFileSync(candidate, "utf8");
      } catch {
        // next
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

export function projectName(setting: string | undefined, folder: { name: string; path: string } | undefined): string | undefined {
  const configured = setting?.trim();
  if (configured) return configured;
  if (!folder) return undefined;
  const text = gitConfigText(folder.path);
  return (text && repoNameFromGitConfig(text)) || folder.name || basename(folder.path) || undefined;
}
