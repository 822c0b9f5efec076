import { sql, type RawBuilder } from 'kysely';
import type { Body, Meta } from '../../domain/records.js';
import type { ListQuery, ListResult, RecordStamp, ResourceRepo, UpdateResult } from '../../ports/store.js';
import type { Clock, Executor } from './dialect.js';

type ColumnValue = string | number | null;

/** How one resource maps onto its table: the JSON body plus the columns queries filter on. */
export interface DocumentSpec<B> {
  table: string;
  /** The indexed columns, each derived from the body on every write. */
  columns: Readonly<Record<string, (body: B) => ColumnValue>>;
}

interface DocumentRow {
  id: number | string;
  version: number;
  created_at: string;
  updated_at: string;
  data: string;
}

export function fromRow<R>(row: DocumentRow): R {
  const meta: Meta = { id: Number(row.id), version: row.version, created_at: row.created_at, updated_at: row.updated_at };
  return { ...(JSON.parse(row.data) as object), ...meta } as R;
}

function toColumnValue(value: string | number | boolean): ColumnValue {
  return typeof value === 'boolean' ? Number(value) : value;
}

/**
 * A versioned resource stored as a JSON document with a few indexed columns. Column names come
 * from the spec (code, never input); every value is a bound parameter.
 */
export class DocumentRepo<R extends Meta, B extends object = Body<R>> implements ResourceRepo<R, B> {
  constructor(
    protected readonly db: Executor,
    private readonly spec: DocumentSpec<B>,
    private readonly clock: Clock,
  ) {}

  private get table() {
    return sql.table(this.spec.table);
  }

  private columnValues(body: B): [string, ColumnValue][] {
    return Object.entries(this.spec.columns).map(([name, derive]) => [name, derive(body)]);
  }

  async insert(body: B): Promise<R> {
    const now = this.clock().toISOString();
    const columns = this.columnValues(body);
    const names = ['version', 'created_at', 'updated_at', 'data', ...columns.map(([name]) => name)];
    const values: ColumnValue[] = [1, now, now, JSON.stringify(body), ...columns.map(([, value]) => value)];
    const { rows } = await sql<DocumentRow>`insert into ${this.table} (${sql.join(names.map((n) => sql.ref(n)))})
      values (${sql.join(values)}) returning id, version, created_at, updated_at, data`.execute(this.db);
    return fromRow<R>(rows[0] as DocumentRow);
  }

  async get(id: number): Promise<R | undefined> {
    const { rows } = await sql<DocumentRow>`select id, version, created_at, updated_at, data from ${this.table}
      where id = ${id}`.execute(this.db);
    return rows[0] ? fromRow<R>(rows[0]) : undefined;
  }

  async list(query: ListQuery): Promise<ListResult<R>> {
    const where = this.whereClause(query);
    const offset = (query.page - 1) * query.pageSize;
    const { rows } = await sql<DocumentRow>`select id, version, created_at, updated_at, data from ${this.table}
      where ${where} order by id limit ${query.pageSize} offset ${offset}`.execute(this.db);
    const counted = await sql<{ total: number | string }>`select count(*) as total from ${this.table} where ${where}`.execute(
      this.db,
    );
    return { rows: rows.map((row) => fromRow<R>(row)), total: Number(counted.rows[0]?.total ?? 0) };
  }

  async all(): Promise<R[]> {
    const { rows } = await sql<DocumentRow>`select id, version, created_at, updated_at, data from ${this.table}
      order by id`.execute(this.db);
    return rows.map((row) => fromRow<R>(row));
  }

  async stamps(): Promise<RecordStamp[]> {
    const { rows } = await sql<RecordStamp>`select id, version, updated_at from ${this.table} order by id`.execute(this.db);
    return rows.map((row) => ({ id: Number(row.id), version: row.version, updated_at: row.updated_at }));
  }

  async update(id: number, body: B, expectedVersion?: number): Promise<UpdateResult<R>> {
    const assignments = this.columnValues(body).map(([name, value]) => sql`${sql.ref(name)} = ${value}`);
    const versionGuard = expectedVersion === undefined ? sql`1 = 1` : sql`version = ${expectedVersion}`;
    const { rows } = await sql<DocumentRow>`update ${this.table}
      set ${sql.join([
        sql`version = version + 1`,
        sql`updated_at = ${this.clock().toISOString()}`,
        sql`data = ${JSON.stringify(body)}`,
        ...assignments,
      ])}
      where id = ${id} and ${versionGuard}
      returning id, version, created_at, updated_at, data`.execute(this.db);
    if (rows[0]) return { ok: true, record: fromRow<R>(rows[0]) };
    return { ok: false, reason: (await this.get(id)) ? 'conflict' : 'not_found' };
  }

  async remove(id: number): Promise<boolean> {
    const result = await sql`delete from ${this.table} where id = ${id}`.execute(this.db);
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  private whereClause(query: ListQuery): RawBuilder<unknown> {
    const known = new Set(Object.keys(this.spec.columns));
    const conditions: RawBuilder<unknown>[] = [sql`1 = 1`];
    for (const [name, value] of Object.entries(query.where ?? {})) {
      if (!known.has(name)) throw new Error(`${this.spec.table} cannot be filtered by ${name}`);
      conditions.push(sql`${sql.ref(name)} = ${toColumnValue(value)}`);
    }
    if (query.hideStatuses?.length && known.has('status') && query.where?.status === undefined) {
      conditions.push(sql`status not in (${sql.join([...query.hideStatuses])})`);
    }
    return sql.join(conditions, sql` and `);
  }
}
