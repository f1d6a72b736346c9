// Every command, option, default and environment variable of `tollgate`, defined once (commander):
// `--help` on every command, `--version`, and docs/configuration.md are all generated from here.
import { Command, Option } from "commander";
import { deploymentsCommand } from "./deployments.js";
import { iamPolicyCommand } from "./iam-policy.js";
import { keyCreateCommand } from "./key-create.js";
import { policyDiffCommand, policyPushCommand } from "./policy-push.js";
import { policyValidateCommand } from "./policy-validate.js";
import { METRICS_ACCESS } from "../app.js";
import { auditCommand } from "./audit.js";
import { requestsCommand } from "./requests.js";
import { policyGetCommand, policyRollbackCommand, policyVersionsCommand } from "./policy-versions.js";
import { DEFAULT_DATA_DIR_TEXT, DEFAULT_PORT, defaultDataDir, serveCommand } from "./serve.js";
import { usageCommand } from "./usage.js";
import { DEFAULT_MAX_BODY_BYTES } from "../app.js";
import { DEFAULT_MAX_OPEN_REQUESTS } from "../http/load-shedding.js";
import { DEFAULT_DRAIN_MS, DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from "../server.js";

/** What a command's action gets: its options under their flag names (`data-dir`, not `dataDir`). */
export type OptionValues = Record<string, string | boolean | undefined>;

function flagNames(values: Record<string, unknown>): OptionValues {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), value as string | boolean | undefined]));
}

/** The options every admin command takes: where the broker is and the admin token. */
function adminOptions(command: Command): Command {
  return command
    .addOption(new Option("--url <url>", "the broker's URL, e.g. http://127.0.0.1:7600").env("TOLLGATE_URL"))
    .addOption(new Option("--admin-token-file <file>", "file holding your admin token (a token alone, or NAME TOKEN; else the TOLLGATE_ADMIN_TOKEN environment variable)"));
}

/** `run` receives each action's work; a throw inside it (sync or async) is the command's failure. */
export function buildProgram(version: string, run: (work: () => Promise<number> | number) => void): Command {
  const program = new Command("tollgate")
    .description("Tollgate: an OpenAI-compatible gateway to Amazon Bedrock with the org's policy, limits, budgets and ledger.")
    .version(version, "-v, --version", "print the version")
    .helpOption("-h, --help", "show help for a command")
    .showHelpAfterError("(run with --help for usage)")
    .configureHelp({ sortSubcommands: false, showGlobalOptions: false })
    // Errors become exceptions (cli.ts sets the exit code), for every command defined below.
    .exitOverride();

  program
    .command("serve")
    .description("Run the broker (on 127.0.0.1 by default). With --database-url and --redis-url it joins a fleet: shared ledger, policy and limits (docs/fleet.md).")
    .addOption(new Option("--policy <file>", "the policy file: seeds an empty store; a stored (pushed) version is served over it").makeOptionMandatory())
    .addOption(
      new Option("--policy-mode <mode>", "seed: a stored (pushed) version is served over the file, which only seeds an empty store; file: the file is stored as the next version and served when it differs (policy kept in git)")
        .choices(["seed", "file"])
        .default("seed"),
    )
    .addOption(new Option("--host <host>", "address to listen on").default("127.0.0.1"))
    .addOption(new Option("--port <port>", "port to listen on (0 picks a free one)").default(String(DEFAULT_PORT)))
    .addOption(new Option("--data-dir <dir>", "ledger, outbox and policy versions; one broker per dir").default(defaultDataDir(), DEFAULT_DATA_DIR_TEXT))
    .addOption(new Option("--admin-token-file <file>", "file of admin credentials, which enables /admin: one per line, NAME TOKEN (a token alone is named admin); the audit records each change under its name (else the TOLLGATE_ADMIN_TOKEN environment variable, named admin)"))
    .addOption(new Option("--max-body-bytes <n>", `largest request body accepted, in bytes (at least 1024; default ${DEFAULT_MAX_BODY_BYTES})`))
    .addOption(new Option("--max-open-requests <n>", `chat requests in progress at once (streams included); past it new ones get 503 overloaded with retry-after: 1 (default ${DEFAULT_MAX_OPEN_REQUESTS})`))
    .addOption(new Option("--headers-timeout <seconds>", `time for a client to send its request headers (0: no limit; default ${DEFAULT_HEADERS_TIMEOUT_MS / 1000}, at most --request-timeout)`))
    .addOption(new Option("--request-timeout <seconds>", `time for a client to send its whole request (0: no limit; default ${DEFAULT_REQUEST_TIMEOUT_MS / 1000})`))
    .addOption(new Option("--drain-seconds <seconds>", "on SIGTERM, how long requests in flight may take to finish").default(String(DEFAULT_DRAIN_MS / 1000)))
    .addOption(new Option("--ledger-sync <mode>", "SQLite synchronous for the ledger: normal survives a killed broker, full also a power loss").choices(["normal", "full"]).default("normal"))
    .addOption(new Option("--metrics <access>", "who may read Prometheus /metrics: admin-token (scrape with the admin token as a bearer credentials_file), open (anyone who reaches the port), off").choices([...METRICS_ACCESS]).default("admin-token"))
    .addOption(new Option("--bedrock-http2", "call Bedrock over HTTP/2 instead of HTTP/1.1 keep-alive").default(false))
    .addOption(new Option("--database-url <url>", "fleet mode: PostgreSQL URL (password inline or ?password_file=FILE; sslmode=disable|require|verify-full)").env("TOLLGATE_DATABASE_URL"))
    .addOption(new Option("--database-ca-file <file>", "fleet mode: CA bundle for PostgreSQL TLS (e.g. the RDS bundle)"))
    .addOption(new Option("--redis-url <url>", "fleet mode: Redis URL, redis:// or rediss:// (TLS; password inline or ?password_file=FILE)").env("TOLLGATE_REDIS_URL"))
    .addOption(new Option("--redis-ca-file <file>", "fleet mode: CA bundle for rediss://"))
    .addOption(new Option("--redis-key-prefix <prefix>", "fleet mode: prefix of every Redis key (default tollgate)"))
    .addOption(new Option("--instance-id <id>", "fleet mode: this broker's name in rows, logs and health (default: the host name)"))
    .addOption(new Option("--outbox-max-rows <n>", "fleet mode: unshipped rows at which new requests are refused while PostgreSQL is unreachable (default 2000000)"))
    .action((options: Record<string, unknown>) => run(() => serveCommand(flagNames(options), version)));

  const policy = program.command("policy").description("Check, compare and push policy files.");
  policy
    .command("validate")
    .description('Check a policy file; prints "json.path: message" for each problem.')
    .argument("<file>", "the policy file")
    .action((file: string) => run(() => policyValidateCommand(file)));
  adminOptions(
    policy
      .command("push")
      .description("Send a policy to a running broker; it validates, then swaps it in (every broker of a fleet within 1 s).")
      .argument("<file>", "the policy file"),
  )
    .addOption(new Option("-m, --message <text>", "why: kept with the version in the audit"))
    .addOption(new Option("--comment <text>", "the same as --message").hideHelp())
    .addOption(new Option("--force", "serve it even if no user could sign in under it"))
    .action((file: string, options: Record<string, unknown>) => run(() => policyPushCommand(file, flagNames(options))));
  adminOptions(policy.command("get").description("Print the serving policy document (or an earlier version's) as JSON.").argument("[version]", "an earlier version (see policy versions)"))
    .addOption(new Option("-o, --output <file>", "write it to FILE instead of stdout"))
    .action((version: string | undefined, options: Record<string, unknown>) => run(() => policyGetCommand(version, flagNames(options))));
  adminOptions(policy.command("versions").description("Every policy version, newest first: when, push / rollback / seed, by whom, why, how many changes."))
    .addOption(new Option("--json", "the versions as JSON, with their change lines"))
    .action((options: Record<string, unknown>) => run(() => policyVersionsCommand(flagNames(options))));
  adminOptions(policy.command("rollback").description("Serve an earlier version's content again, as a new version (validated like a push).").argument("<version>", "the version to restore"))
    .addOption(new Option("-m, --message <text>", "why: kept with the version in the audit"))
    .action((version: string, options: Record<string, unknown>) => run(() => policyRollbackCommand(version, flagNames(options))));
  adminOptions(policy.command("diff").description("Show what pushing FILE would change on a running broker.").argument("<file>", "the policy file")).action(
    (file: string, options: Record<string, unknown>) => run(() => policyDiffCommand(file, flagNames(options))),
  );

  const key = program.command("key").description("User keys.");
  key
    .command("create")
    .description("Make a new user key; prints it once, and the hash line for the policy.")
    .addOption(new Option("--user <name>", "the user it is for (names the policy entry to paste into)"))
    .action((options: Record<string, unknown>) => run(() => keyCreateCommand(flagNames(options))));

  program
    .command("iam-policy")
    .description("Print the least-privilege IAM for a policy: the instance role's policy (the models and profiles its routes call, and sts:AssumeRole on exactly its roles), and each assumed role's permissions and trust policy.")
    .addOption(new Option("--policy <file>", "the policy file").makeOptionMandatory())
    .addOption(new Option("--instance-role-arn <arn>", "the broker hosts' instance role, named in each assumed role's trust policy (default: a placeholder)"))
    .addOption(new Option("--account-id <id>", "the account of the deployments that use the instance role (default: any)"))
    .addOption(new Option("--json", "one JSON object: instanceRole, roles[{roleArn, permissions, trust}]"))
    .action((options: Record<string, unknown>) => run(() => iamPolicyCommand(flagNames(options))));

  adminOptions(program.command("usage").description("Spend and tokens from a running broker's ledger, as a table."))
    .addOption(new Option("--group-by <dimension>", "rows per").choices(["team", "user", "model", "project", "day"]).default("team"))
    .addOption(new Option("--from <time>", "start: a date (a day in the policy's time zone) or a time with its offset (default: 30 days ago)"))
    .addOption(new Option("--to <time>", "end: a date (through the end of that day in the policy's time zone) or a time with its offset (default: now)"))
    .addOption(new Option("--json", "the report as JSON (rows and total)").conflicts("csv"))
    .addOption(new Option("--csv", "the rows as CSV, with a header line (spreadsheets, BI tools)"))
    .action((options: Record<string, unknown>) => run(() => usageCommand(flagNames(options))));

  adminOptions(program.command("requests").description("The org's recent chat requests, newest first: those the ledger holds (served, failed, cancelled) and those refused before Bedrock (no or unknown key, model not allowed, rate limit, budget, overload), with who and why."))
    .addOption(new Option("--status <status>", "an HTTP status (429) or a class (4xx)"))
    .addOption(new Option("--user <name>", "one user"))
    .addOption(new Option("--team <name>", "one team"))
    .addOption(new Option("--model <name>", "the model asked for"))
    .addOption(new Option("--from <time>", "start: a date (a day in the policy's time zone) or a time with its offset"))
    .addOption(new Option("--to <time>", "end: a date (through the end of that day) or a time with its offset"))
    .addOption(new Option("--refused", "only requests refused before Bedrock"))
    .addOption(new Option("--no-refused", "only requests the ledger holds"))
    .addOption(new Option("--limit <n>", "requests, 1-1000").default("50"))
    .addOption(new Option("--json", "the requests as JSON"))
    .action((options: Record<string, unknown>) => run(() => requestsCommand(flagNames(options))));

  adminOptions(program.command("audit").description("Who changed the policy (the admin credential's name and address), when, why (policy push --message) and what, newest first."))
    .addOption(new Option("--limit <n>", "entries, 1-1000").default("50"))
    .addOption(new Option("--json", "the entries as JSON"))
    .action((options: Record<string, unknown>) => run(() => auditCommand(flagNames(options))));

  adminOptions(program.command("deployments").description("Each deployment's state (healthy / cooling down), requests in flight, recent errors and latency.")).action(
    (options: Record<string, unknown>) => run(() => deploymentsCommand(flagNames(options))),
  );
  return program;
}
