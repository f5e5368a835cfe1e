import { describeOnlineStoreConformance, testLogger } from 'fenestra/testkit';
import plugin from '../src/index.js';
import { startPostgres, type PostgresServer } from './postgres-server.js';

// The example plugin passes Fenestra's online-store conformance kit against a real PostgreSQL
// server that the test starts itself (initdb + pg_ctl in a temp dir, free port, 127.0.0.1).
let pg: PostgresServer | undefined;

describeOnlineStoreConformance('postgresql (example plugin)', {
  async setup() {
    pg = await startPostgres();
  },
  async teardown() {
    await pg?.stop();
  },
  async createStore(groups) {
    if (pg === undefined) throw new Error('PostgreSQL was not started');
    const store = await plugin.create({ url: pg.url, table: 'kit_online' }, { logger: testLogger(), baseDir: process.cwd(), engineVersion: '0.1.0', groups });
    return store;
  },
});
