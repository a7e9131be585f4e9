/**
 * Builds the WHERE clause of a filtered listing (QueueInfo GetStatus, EventInfo): conditions whose
 * value is absent are left out; values always go in as parameters, never into the SQL text.
 */
export class WhereClause {
  private readonly conditions: string[] = [];
  readonly args: (string | number)[] = [];

  /** `clause` with one `?`, added when `value` is given. */
  add(clause: string, value: string | number | undefined): this {
    if (value === undefined) return this;
    this.conditions.push(clause);
    this.args.push(value);
    return this;
  }

  /** `column IN (...)`, added when `values` is not empty. */
  in(column: string, values: readonly string[] | undefined): this {
    if (!values || values.length === 0) return this;
    this.conditions.push(`${column} IN (${values.map(() => '?').join(', ')})`);
    this.args.push(...values);
    return this;
  }

  /** ` WHERE a AND b`, or '' when there is no condition. */
  toString(): string {
    return this.conditions.length > 0 ? ` WHERE ${this.conditions.join(' AND ')}` : '';
  }
}
