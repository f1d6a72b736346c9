import { parseArgs } from "node:util";
import { generateApiKey, keyHashEntry } from "@tollgate/shared";

/** Prints a new key once, and the line to paste into the policy. The broker never sees the key itself. */
export function keyCreateCommand(args: string[]): number {
  const { values } = parseArgs({ args, options: { user: { type: "string" } } });
  const key = generateApiKey();
  const where = values.user ? `users.${values.user}.keys` : "users.<name>.keys";
  process.stdout.write(
    `key:  ${key}\n` +
      `      Give this to the user; it is shown only now and stored nowhere.\n` +
      `hash: "${keyHashEntry(key)}"\n` +
      `      Add this line to ${where} in the policy, then push it.\n`,
  );
  return 0;
}
