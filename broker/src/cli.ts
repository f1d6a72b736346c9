// `tollgate` — the broker's command line. Thin: parses the command and calls it.
import { CliError } from "./cli/admin-client.js";
import { deploymentsCommand } from "./cli/deployments.js";
import { keyCreateCommand } from "./cli/key-create.js";
import { policyDiffCommand, policyPushCommand } from "./cli/policy-push.js";
import { policyValidateCommand } from "./cli/policy-validate.js";
import { serveCommand } from "./cli/serve.js";
import { usageCommand } from "./cli/usage.js";

const USAGE = `Usage:
  tollgate serve --policy FILE [--host H] [--port N] [--data-dir DIR] [--admin-token-file FILE]
                 [--max-body-bytes N] [--bedrock-http2] [--drain-seconds N]
                 [--database-url URL --redis-url URL [--instance-id ID] [--redis-key-prefix P]
                  [--database-ca-file FILE] [--redis-ca-file FILE] [--outbox-max-rows N]]
  tollgate policy validate FILE
  tollgate policy push FILE --url URL [--admin-token-file FILE] [--comment TEXT] [--force]
  tollgate policy diff FILE --url URL [--admin-token-file FILE]
  tollgate key create [--user NAME]
  tollgate usage --url URL [--group-by team|user|model|project|day] [--from ISO] [--to ISO] [--admin-token-file FILE]
  tollgate deployments --url URL [--admin-token-file FILE]

serve            Run the broker. Host defaults to 127.0.0.1, port to 7600 (0 picks a free port).
                 With --database-url (PostgreSQL) and --redis-url (Redis), or TOLLGATE_DATABASE_URL and
                 TOLLGATE_REDIS_URL, it joins a fleet: shared ledger, policy and limits (docs/fleet.md).
policy validate  Check a policy file; prints "json.path: message" for each problem.
policy push      Send a policy to a running broker; it validates, then swaps it in.
policy diff      Show what pushing FILE would change on a running broker.
key create       Make a new user key; prints it once, and the hash line for the policy.
usage            Spend and tokens from a running broker's ledger, as a table.
deployments      Each deployment's state (healthy / cooling down), requests in flight, recent errors and latency.
The admin commands read the admin token from --admin-token-file or TOLLGATE_ADMIN_TOKEN.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
      return serveCommand(rest);
    case "policy": {
      const [sub, ...args] = rest;
      if (sub === "validate") return policyValidateCommand(args);
      if (sub === "push") return policyPushCommand(args);
      if (sub === "diff") return policyDiffCommand(args);
      process.stderr.write(`tollgate policy: unknown subcommand "${sub ?? ""}"\n${USAGE}\n`);
      return 2;
    }
    case "key": {
      const [sub, ...args] = rest;
      if (sub === "create") return keyCreateCommand(args);
      process.stderr.write(`tollgate key: unknown subcommand "${sub ?? ""}"\n${USAGE}\n`);
      return 2;
    }
    case "usage":
      return usageCommand(rest);
    case "deployments":
      return deploymentsCommand(rest);
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
    const known = error instanceof CliError || (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS"));
    process.stderr.write(`tollgate: ${error instanceof Error ? error.message : String(error)}\n`);
    if (!known && error instanceof Error && error.stack && process.env.TOLLGATE_DEBUG) process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
  },
);
