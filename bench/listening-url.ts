// The URL a child process announces with its "listening on http://…" line (the emulator's and
// the broker's convention), or a rejection if it exits first.
import type { ChildProcess } from "node:child_process";

export function listeningUrl(child: ChildProcess, name: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (data: Buffer) => {
      out += data.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`${name} exited ${code}`)));
  });
}
