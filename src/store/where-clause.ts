/**
 * Builds the WHERE clause of a filtered listing (QueueInfo GetStatus, EventInfo): conditions whose
 * value is absent are left out; values always go in as parameters, never into the SQL text.
 * Clauses are written with `?`; a store whose driver numbers its parameters (PostgreSQL's `$1`)
 * passes `numbered`, and the builder writes them so.
 */
export class WhereClause {
  private readonly conditions: string[] = [];
  readonly args: (string | number)[] = [];

  constructor(private readonly numbered = false) {}

  /** `clause` with one `?`, added when `value` is given. */
  add(clause: string, value: string | number | undefined): this {
    if (value === undefined) return this;
    this.args.push(value);
    this.conditions.push(this.numbered ? clause.replace('?', `$${this.args.length}`) : clause);
    return this;
  }

  /** `column IN (...)`, added when `values` is not empty. */
  in(column: string, values: readonly string[] | undefined): this {
    if (!values || values.length === 0) return this;
    const first = this.args.length;
    this.args.push(...values);
    this.conditions.push(`${column} IN (${values.map((_, i) => (this.numbered ? `$${first + i + 1}` : '?')).join(', ')})`);
    return this;
  }

  /** ` WHERE a AND b`, or '' when there is no condition. */
  toString(): string {
    return this.conditions.length > 0 ? ` WHERE ${this.conditions.join(' AND ')}` : '';
  }
}
