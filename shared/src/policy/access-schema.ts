import { z } from "zod";

/*
 * The second part of the policy file: who may call Tollgate (users and their key hashes), grouped in
 * teams, and within which limits. Like schema.ts this describes the file exactly; cross-references
 * (a user's team, a team's models, duplicate key hashes) are checked in access-checks.ts and the
 * runtime shape (defaults applied, "*" expanded) is built in resolve-access.ts.
 */

export const TEAM_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const USER_NAME_PATTERN = TEAM_NAME_PATTERN;
/** How a key is written in `users.X.keys`: its SHA-256, never the key itself. */
export const KEY_HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;
export const KEY_HASH_PREFIX = "sha256:";
/** As the only entry of a `models` list: every model the level above allows. */
export const ALL_MODELS = "*";
export const DEFAULT_TIMEZONE = "UTC";

const NAME_RULE = "start with a letter or digit and use only letters, digits and . _ @ - (max 64)";

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: name });
    return true;
  } catch (error) {
    if (error instanceof RangeError) return false;
    throw error;
  }
}

const count = (what: string) =>
  z
    .number()
    .int({ error: "must be a whole number" })
    .nonnegative({ error: "must not be negative" })
    .optional()
    .describe(what);

const usd = (what: string) =>
  z.number().nonnegative({ error: "must not be negative (USD)" }).optional().describe(what);

export const limitsSchema = z.strictObject({
  rpm: count("Requests per minute."),
  tpm: count("Tokens per minute, prompt and completion together."),
  concurrent: count("Requests in progress at the same time."),
  dailyUsd: usd("Spend per day in USD; days start at midnight in the policy's timezone."),
  monthlyUsd: usd("Spend per calendar month in USD, in the policy's timezone."),
});

const modelList = (what: string) => z.array(z.string()).describe(what);

export const teamEntrySchema = z
  .strictObject({
    models: modelList(
      'Models this team\'s users may use: names from `models`, or ["*"] for every model in the policy.',
    ),
    limits: limitsSchema
      .optional()
      .describe(
        "Limits on the team as a whole (all its users together). Each field overrides the same field " +
          "of defaults.teamLimits; a field set in neither is unlimited. 0 blocks.",
      ),
    modelLimits: z
      .record(z.string(), limitsSchema.describe("Limits on the team as a whole for this model. 0 blocks."))
      .optional()
      .describe("Limits on the team as a whole for one model, keyed by a model name from `models`."),
  })
  .describe("A team: the models its users may use and the limits on the team as a whole.");

export const userEntrySchema = z
  .strictObject({
    team: z.string().describe("The team this user belongs to: a name from `teams`."),
    keys: z
      .array(
        z.string().regex(KEY_HASH_PATTERN, {
          // Never echo the value: it may be a key pasted in clear.
          error: (issue) =>
            typeof issue.input === "string" && issue.input.startsWith("tg_")
              ? 'looks like an API key in clear; write its hash instead, "sha256:" followed by 64 lowercase hex digits'
              : 'must be "sha256:" followed by 64 lowercase hex digits (the SHA-256 of the key)',
        }),
      )
      .describe(
        'The user\'s API keys, each as "sha256:" + the lowercase hex SHA-256 of the key; the key itself ' +
          "is never stored. Empty: the user cannot sign in. A hash may appear only once in the whole " +
          "policy. The examples hold none: add the line `tollgate key create --user NAME` prints.",
      ),
    models: modelList(
      "Narrows the team's models for this user; each must be allowed by the team. Default (or [\"*\"]): " +
        "every model the team allows.",
    ).optional(),
    limits: limitsSchema
      .optional()
      .describe(
        "This user's own limits. Each field overrides the same field of defaults.userLimits; a field set " +
          "in neither is unlimited. 0 blocks. The team's limits apply as well.",
      ),
    disabled: z
      .boolean()
      .optional()
      .describe("true: the user is revoked and every request with their keys is refused; the keys stay for audit."),
  })
  .describe("A person (or service) allowed to call Tollgate, under the name used as its key.");

export const defaultsSchema = z
  .strictObject({
    userLimits: limitsSchema.optional().describe("Limits of every user, field by field unless the user's limits set it."),
    teamLimits: limitsSchema
      .optional()
      .describe("Limits of every team as a whole, field by field unless the team's limits set it."),
  })
  .describe("Limits that apply where a user or team does not set its own.");

export const timezoneSchema = z
  .string()
  .refine(isTimeZone, {
    error: (issue) =>
      `unknown time zone ${JSON.stringify(issue.input)}; use an IANA name such as "UTC" or "Europe/Paris"`,
  })
  .describe('IANA time zone in which daily and monthly budgets start and end, e.g. "Europe/Paris". Default "UTC".');

export const teamNameSchema = z.string().regex(TEAM_NAME_PATTERN, { error: `team name must ${NAME_RULE}` });
export const userNameSchema = z.string().regex(USER_NAME_PATTERN, { error: `user name must ${NAME_RULE}` });

export type LimitsEntry = z.output<typeof limitsSchema>;
export type TeamEntry = z.output<typeof teamEntrySchema>;
export type UserEntry = z.output<typeof userEntrySchema>;
export type DefaultsEntry = z.output<typeof defaultsSchema>;
