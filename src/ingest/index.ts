export { openSqliteClickWriter, type SqliteClickWriterOptions } from './sqlite-click-writer.js';
