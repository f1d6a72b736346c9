import type { CentralMigration } from "./index.js";

// Requests refused before Bedrock (no usage, never a body), shipped from every broker's outbox, and
// an index for listing failed requests by status that costs nothing per served (200) request.
export const refusals: CentralMigration = {
  version: 2,
  description: "refusals; usage_not_ok partial index",
  sql: `
    CREATE TABLE refusals (
      id text PRIMARY KEY,
      instance_id text NOT NULL,
      time bigint NOT NULL,
      "user" text,
      team text,
      project text,
      model text,
      http_status integer NOT NULL,
      code text NOT NULL,
      reason text,
      limit_name text,
      limit_scope text,
      key_hash_prefix text,
      client text,
      latency_ms integer NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX refusals_time ON refusals (time);
    CREATE INDEX refusals_user_time ON refusals ("user", time);
    CREATE INDEX refusals_team_time ON refusals (team, time);
    CREATE INDEX usage_not_ok ON usage (http_status, time) WHERE http_status <> 200;
  `,
};
