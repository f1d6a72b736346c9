// docs/configuration.md, rendered from the command definitions (program.ts) so the two can't drift.
// `npm run docs` writes it; a test fails when it is stale.
import type { Command, Option } from "commander";

/** Environment variables that are not an option's (secrets and process settings). */
const OTHER_ENVIRONMENT: Array<[string, string]> = [
  ["TOLLGATE_ADMIN_TOKEN", "the admin token, when `--admin-token-file` is not given (`serve` enables /admin with it; the admin commands present it)"],
  ["TOLLGATE_LOG_LEVEL", "`serve`'s log level: trace, debug, info (default), warn, error"],
  ["TOLLGATE_DEBUG", "set: a failing command also prints its stack trace"],
  ["AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_BEDROCK_RUNTIME, …", "read by the AWS SDK's own credential and endpoint chain (instance role by default)"],
];

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function defaultOf(option: Option): string {
  if (option.defaultValueDescription) return option.defaultValueDescription;
  if (option.defaultValue === undefined || option.defaultValue === false) return "";
  return String(option.defaultValue);
}

function commandSection(command: Command, path: string): string[] {
  const lines = [`### \`${path}\``, "", command.description(), ""];
  const args = command.registeredArguments.map((argument) => `<${argument.name()}>`).join(" ");
  lines.push("```", `${path}${command.options.length > 0 ? " [options]" : ""}${args ? ` ${args}` : ""}`, "```", "");
  const options = command.options.filter((option) => option.long !== "--help");
  if (options.length > 0) {
    lines.push("| option | meaning | default | environment |", "|---|---|---|---|");
    for (const option of options) {
      const choices = option.argChoices ? ` (${option.argChoices.join(", ")})` : "";
      lines.push(`| \`${option.flags}\` | ${cell(option.description + choices)}${option.mandatory ? " **(required)**" : ""} | ${cell(defaultOf(option))} | ${option.envVar ? `\`${option.envVar}\`` : ""} |`);
    }
    lines.push("");
  }
  return lines;
}

function walk(command: Command, path: string): string[] {
  const subcommands = command.commands.filter((sub) => sub.name() !== "help");
  if (subcommands.length === 0) return commandSection(command, path);
  return subcommands.flatMap((sub) => walk(sub, `${path} ${sub.name()}`));
}

export function renderConfigurationDoc(program: Command): string {
  const lines = [
    "# Configuration",
    "",
    "<!-- Generated from broker/src/cli/program.ts by `npm run docs`; edit that file, not this one. -->",
    "",
    "Every command of `tollgate`, with each option, its default and the environment variable that sets it.",
    "`tollgate --version` prints the version; `--help` works on every command and subcommand.",
    "Exit codes: 0 done, 1 the command failed (one line on stderr says why), 2 a usage mistake.",
    "",
    "## Commands",
    "",
    ...program.commands.filter((sub) => sub.name() !== "help").flatMap((sub) => walk(sub, `tollgate ${sub.name()}`)),
    "## Other environment variables",
    "",
    "| variable | meaning |",
    "|---|---|",
    ...OTHER_ENVIRONMENT.map(([name, meaning]) => `| \`${name}\` | ${cell(meaning)} |`),
    "",
  ];
  return lines.join("\n");
}
