// Where Tollgate keeps its per-user files: $XDG_CONFIG_HOME/tollgate, else $HOME/.config/tollgate.
import { homedir } from "node:os";
import { join } from "node:path";

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME?.trim();
  if (xdg) return join(xdg, "tollgate");
  const home = env.HOME?.trim() || homedir();
  return join(home, ".config", "tollgate");
}

export const CONFIG_FILES = {
  /** The developer's broker key, provisioned by an admin's bootstrap script. */
  credentials: "credentials",
  /** The local endpoint's bearer token (made once). */
  localToken: "local-token",
  /** Where the local endpoint listens and with which token: for Cline, curl, scripts. */
  endpoint: "endpoint.json",
} as const;
