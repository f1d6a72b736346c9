// `tollgate` — the broker's command line. Thin: the commands are defined in cli/program.ts.
import { CommanderError } from "commander";
import { CliError } from "./cli/admin-client.js";
import { buildProgram } from "./cli/program.js";

declare const TOLLGATE_VERSION: string;

function report(error: unknown): void {
  const known = error instanceof CliError;
  process.stderr.write(`tollgate: ${error instanceof Error ? error.message : String(error)}\n`);
  if (!known && error instanceof Error && error.stack && process.env.TOLLGATE_DEBUG) process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
}

let work: Promise<void> | undefined;
// The outcome is handled as soon as the work starts, so a failure is reported as one line, never unhandled.
const program = buildProgram(TOLLGATE_VERSION, (start) => {
  work = Promise.resolve()
    .then(start)
    .then((code) => {
      if (code !== 0) process.exitCode = code;
    }, report);
});
// Usage mistakes exit 2 (commander has printed what was wrong); --help and --version exit 0.
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  process.exitCode = error.exitCode === 0 ? 0 : 2;
}
await work;
