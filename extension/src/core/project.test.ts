import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectName, repoNameFromGitConfig } from "./project.js";
import { tempDir } from "./test-builders.js";

describe("project name", () => {
  it("reads the repository name from the git remote, origin first", () => {
    const config = '[core]\n\tbare = false\n[remote "upstream"]\n\turl = https://example.com/org/other.git\n[remote "origin"]\n\turl = git@example.com:org/tollgate.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n';
    expect(repoNameFromGitConfig(config)).toBe("tollgate");
    expect(repoNameFromGitConfig('[remote "fork"]\n  url = https://example.com/me/thing/\n')).toBe("thing");
    expect(repoNameFromGitConfig("[core]\n")).toBeUndefined();
  });

  it("prefers the setting, then the git remote, then the folder's name", () => {
    const folder = tempDir();
    expect(projectName(" billing ", { name: "ws", path: folder })).toBe("billing");
    expect(projectName("", { name: "ws", path: folder })).toBe("ws");
    mkdirSync(join(folder, ".git"));
    writeFileSync(join(folder, ".git", "config"), '[remote "origin"]\n\turl = https://example.com/org/payments.git\n');
    expect(projectName(undefined, { name: "ws", path: folder })).toBe("payments");
    expect(projectName(undefined, undefined)).toBeUndefined();
  });
});
