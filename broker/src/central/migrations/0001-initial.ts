import type { CentralMigration } from "./index.js";

// The org's usage rows (one per request, keyed by the request id, so shipping is idempotent), policy
// versions with their audit, and the broker registry. Never edit a released migration: add one.
export const initial: CentralMigration = {
  version: 1,
  description: "usage rows, policy versions with audit, broker registry",
  sql: `
    CREATE TABLE usage (
      id text PRIMARY KEY,
      instance_id text NOT NULL,
      time bigint NOT NULL,
      "user" text NOT NULL,
      team text NOT NULL,
      project text,
      requested_model text NOT NULL,
      served_model text NOT NULL,
      deployment text,
      status text NOT NULL CHECK (status IN ('ok', 'error', 'cancelled')),
      http_status integer NOT NULL,
      input_tokens bigint NOT NULL CHECK (input_tokens >= 0),
      cache_read_tokens bigint NOT NULL CHECK (cache_read_tokens >= 0),
      cache_write_tokens bigint NOT NULL CHECK (cache_write_tokens >= 0),
      output_tokens bigint NOT NULL CHECK (output_tokens >= 0),
      cost_pico_usd bigint NOT NULL CHECK (cost_pico_usd >= 0),
      latency_ms integer NOT NULL,
      ttft_ms integer,
      fallbacks integer NOT NULL,
      error_code text,
      usage_estimated boolean NOT NULL DEFAULT false,
      received_at timestamptz NOT NULL DEFAULT now()
    );
    -- Reports filter by time, and by user or team within it; rebuilds by instance within it.
    CREATE INDEX usage_time ON usage (time);
    CREATE INDEX usage_user_time ON usage ("user", time);
    CREATE INDEX usage_team_time ON usage (team, time);
    CREATE INDEX usage_instance_time ON usage (instance_id, time);

    CREATE TABLE policy_versions (
      version integer PRIMARY KEY CHECK (version > 0),
      created_at timestamptz NOT NULL DEFAULT now(),
      kind text NOT NULL CHECK (kind IN ('seed', 'push', 'rollback')),
      by text NOT NULL,
      comment text,
      changes jsonb NOT NULL,
      document jsonb NOT NULL,
      restored_from integer
    );

    CREATE TABLE brokers (
      instance_id text PRIMARY KEY,
      started_at timestamptz NOT NULL,
      last_seen timestamptz NOT NULL,
      policy_version integer NOT NULL,
      info jsonb NOT NULL DEFAULT '{}'::jsonb
    );
  `,
};
