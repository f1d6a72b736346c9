// A query's optional filters as SQLite conditions and their parameters, in order.
export class SqlFilters {
  readonly conditions: string[] = [];
  readonly params: Array<string | number> = [];

  add(condition: string, ...values: Array<string | number>): this {
    this.conditions.push(condition);
    this.params.push(...values);
    return this;
  }

  /** " AND a AND b", to follow conditions of the caller's own. */
  and(): string {
    return this.conditions.map((c) => ` AND ${c}`).join("");
  }

  /** "WHERE a AND b", or nothing. */
  where(): string {
    return this.conditions.length > 0 ? `WHERE ${this.conditions.join(" AND ")}` : "";
  }
}
