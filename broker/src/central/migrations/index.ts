// The central store's schema, one file per version, applied in order by migrate.ts.
import { initial } from "./0001-initial.js";
import { refusals } from "./0002-refusals.js";

export interface CentralMigration {
  version: number;
  description: string;
  sql: string;
}

export const CENTRAL_MIGRATIONS: readonly CentralMigration[] = [initial, refusals];

export const CENTRAL_SCHEMA_VERSION: number = CENTRAL_MIGRATIONS.length;
