import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../support/api-server.js';
import { storeConformance } from './conformance.js';
import { kpiStoreConformance } from './kpi-conformance.js';

storeConformance('SQLite', () => openSqliteStore({ dataDir: tempDir(), synchronous: 'full' }));
kpiStoreConformance('SQLite', () => openSqliteStore({ dataDir: tempDir(), synchronous: 'normal' }));
