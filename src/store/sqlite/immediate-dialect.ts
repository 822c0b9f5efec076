import { CompiledQuery, SqliteAdapter, SqliteDialect, SqliteDriver, type DatabaseConnection, type DialectAdapter, type Driver, type SqliteDialectConfig } from 'kysely';

/**
 * Kysely's SQLite dialect, except that a transaction takes the write lock when it begins
 * (`BEGIN IMMEDIATE`). Kysely begins DEFERRED: a transaction that reads before it writes then fails
 * at once with SQLITE_BUSY_SNAPSHOT if another connection committed in between, and busy_timeout
 * does not wait for that case. Two servers on one data directory hit it (test/kpi/two-processes:
 * an API write answered 500 in about one run in ten); an immediate transaction waits its turn instead.
 */
export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlAdapter();
  }
}

/**
 * SQLite's schema changes are transactional, but Kysely's adapter says otherwise, so its migrator
 * committed each statement of a migration on its own: a start killed while a migration filled a new
 * table (minutes on a large database) left the table without the migration's record, and every
 * later start failed on "table already exists". Declared, the migrator runs the pending migrations
 * in one transaction, which an interruption rolls back whole.
 */
class TransactionalDdlAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  /**
   * A full disk or an I/O error makes SQLite roll the transaction back itself. Kysely's rollback
   * after the failed statement then failed too ("cannot rollback - no transaction is active"), and
   * that error replaced the real one: the API answered 500 and the log never named the full disk.
   */
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await connection.executeQuery(CompiledQuery.raw('rollback'));
    } catch (err) {
      if (err instanceof Error && /no transaction is active/.test(err.message)) return;
      throw err;
    }
  }
}
