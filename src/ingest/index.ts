export { openSqliteClickWriter, type SqliteClickWriterOptions, type SqliteWriter } from './sqlite-click-writer.js';
