// A real code-server for end-to-end tests: found through the manifest that install-code-server.sh
// writes, started on a free port with its own user-data, extensions and HOME directories.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export interface E2eManifest {
  /** Node 24, which code-server needs. */
  node: string;
  /** code-server's entry script (run with `node`). */
  codeServer: string;
  codeServerVersion: string;
  chromium: string;
}

const SETUP_HINT = "run `bash test/e2e/install-code-server.sh` (or `npm run test:e2e`, which runs it first)";

export function e2eCacheDir(): string {
  return process.env.TOLLGATE_E2E_CACHE ?? join(homedir(), ".cache/tollgate-e2e");
}

/** What install-code-server.sh installed; throws a message saying what to do when something is missing. */
export function readManifest(): E2eManifest {
  const file = join(e2eCacheDir(), "manifest.json");
  if (!existsSync(file)) throw new Error(`code-server is not installed for the e2e test (no ${file}): ${SETUP_HINT}`);
  const manifest = JSON.parse(readFileSync(file, "utf8")) as E2eManifest;
  for (const [what, path] of [["Node 24", manifest.node], ["code-server", manifest.codeServer], ["Chromium", manifest.chromium]] as const) {
    if (!existsSync(path)) throw new Error(`${what} is missing at ${path}: ${SETUP_HINT}`);
  }
  return manifest;
}

export interface CodeServerDirs {
  /** The temp directory holding all of the below. */
  root: string;
  /** HOME of the code-server process: the extension writes ~/.config/tollgate/endpoint.json here. */
  home: string;
  userData: string;
  extensions: string;
  workspace: string;
}

export function makeDirs(root = mkdtempSync(join(tmpdir(), "tollgate-e2e-"))): CodeServerDirs {
  const dirs = { root, home: join(root, "home"), userData: join(root, "user-data"), extensions: join(root, "extensions"), workspace: join(root, "workspace") };
  for (const dir of [dirs.home, dirs.userData, dirs.extensions, dirs.workspace]) mkdirSync(dir, { recursive: true });
  return dirs;
}

export function writeUserSettings(dirs: CodeServerDirs, settings: Record<string, unknown>): void {
  const file = join(dirs.userData, "User/settings.json");
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(settings, null, 2));
}

/** The environment code-server runs with: HOME is the temp one, and no XDG dir points elsewhere. */
function codeServerEnv(manifest: E2eManifest, dirs: CodeServerDirs, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: dirs.home, PATH: `${dirname(manifest.node)}:${process.env.PATH ?? ""}` };
  for (const name of ["XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "VSCODE_IPC_HOOK_CLI", "NODE_OPTIONS"]) delete env[name];
  // Neither the test runner's variables nor a developer's own Tollgate key or broker may leak in.
  for (const name of Object.keys(env)) if (name.startsWith("VITEST") || name.startsWith("TOLLGATE_") || name === "TEST") delete env[name];
  return { ...env, ...extra };
}

export async function installExtension(manifest: E2eManifest, dirs: CodeServerDirs, vsix: string): Promise<string> {
  const { stdout, stderr } = await execFileAsync(
    manifest.node,
    [manifest.codeServer, "--install-extension", vsix, "--extensions-dir", dirs.extensions, "--user-data-dir", dirs.userData],
    { env: codeServerEnv(manifest, dirs, {}), timeout: 120_000 },
  );
  return stdout + stderr;
}

export interface CodeServer {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export async function startCodeServer(manifest: E2eManifest, dirs: CodeServerDirs, env: Record<string, string>): Promise<CodeServer> {
  const child = spawn(
    manifest.node,
    [
      manifest.codeServer,
      "--auth", "none",
      "--bind-addr", "127.0.0.1:0",
      "--disable-telemetry",
      "--disable-update-check",
      "--disable-workspace-trust",
      "--user-data-dir", dirs.userData,
      "--extensions-dir", dirs.extensions,
      dirs.workspace,
    ],
    { env: codeServerEnv(manifest, dirs, env), stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let output = "";
  child.stdout?.on("data", (data: Buffer) => (output += data.toString()));
  child.stderr?.on("data", (data: Buffer) => (output += data.toString()));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`code-server did not start within 60 s:\n${output}`)), 60_000);
    const onData = (): void => {
      const match = /HTTP server listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`code-server exited with ${code} before listening:\n${output}`));
    });
  });

  return {
    url,
    child,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => killGroup(child, "SIGKILL"), 10_000);
        child.once("exit", () => {
          clearTimeout(timer);
          // The extension host and other helpers are in the same process group.
          killGroup(child, "SIGKILL");
          resolve();
        });
        killGroup(child, "SIGTERM");
      }),
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
