// `tollgate` — the broker's command line. Thin: parses arguments and calls the commands.
import { policyValidateCommand } from "./cli/policy-validate.js";
import { serveCommand } from "./cli/serve.js";

const USAGE = `Usage:
  tollgate serve --policy FILE [--host H] [--port N] [--data-dir DIR] [--max-body-bytes N] [--bedrock-http2]
  tollgate policy validate FILE

serve            Run the broker. Host defaults to 127.0.0.1, port to 7600 (0 picks a free port).
policy validate  Check a policy file; prints "json.path: message" for each problem.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
      return serveCommand(rest);
    case "policy": {
      const [sub, ...args] = rest;
      if (sub === "validate") return policyValidateCommand(args);
      process.stderr.write(`tollgate policy: unknown subcommand "${sub ?? ""}"\n${USAGE}\n`);
      return 2;
    }
    case "--help":
    case "-h":
    case "help":
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      process.stderr.write(`tollgate: unknown command "${command ?? ""}"\n${USAGE}\n`);
      return 2;
  }
}


main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`tollgate: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
