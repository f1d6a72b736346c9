import type { OptionValues } from "./program.js";
import { generateApiKey, keyHashEntry, userNameSchema } from "@tollgate/shared";
import { CliError } from "./admin-client.js";

/** Prints a new key once, and the line to paste into the policy. The broker never sees the key itself. */
export function keyCreateCommand(values: OptionValues): number {
  if (typeof values.user === "string") {
    const checked = userNameSchema.safeParse(values.user);
    if (!checked.success) throw new CliError(`--user ${JSON.stringify(values.user)}: ${checked.error.issues[0]?.message ?? "not a valid user name"}`);
  }
  const key = generateApiKey();
  const where = typeof values.user === "string" ? `users.${values.user}.keys` : "users.<name>.keys";
  process.stdout.write(
    `key:  ${key}\n` +
      `      Give this to the user; it is shown only now and stored nowhere.\n` +
      `hash: "${keyHashEntry(key)}"\n` +
      `      Add this line to ${where} in the policy, then push it.\n`,
  );
  return 0;
}
