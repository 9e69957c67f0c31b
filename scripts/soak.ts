import { parseArgs } from 'node:util';
import { describeSoak, rssAllowance, runSoak } from '../test/support/soak.ts';

/**
 * `npm run soak -- --seconds 600 [--connections 8] [--postgres postgres://…] [--heap-mb 192|0]`: the soak of
 * test/soak.test.ts, as long as you like (CI runs it for 25 s). The real server process on a scratch
 * database (SQLite, or a new database on the given PostgreSQL server), a mixed autocannon load, RSS
 * sampled every second. Exit 1 on any 5xx, any connection error, or RSS at the end more than 10% +
 * 16 MB above the middle of the run.
 */
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '600' },
    connections: { type: 'string', default: '8' },
    postgres: { type: 'string' },
    'heap-mb': { type: 'string', default: '192' },
  },
});

const report = await runSoak({
  seconds: Number(values.seconds),
  connections: Number(values.connections),
  postgresUrl: values.postgres,
  nodeOptions: Number(values['heap-mb']) > 0 ? `--max-old-space-size=${Number(values['heap-mb'])}` : undefined,
  log: (line) => console.log(line),
});
console.log(describeSoak(report));
console.log(`RSS per second (MB): ${report.rss.map((b) => Math.round(b / 1024 / 1024)).join(' ')}`);
const problems = [
  report.fiveHundreds ? `${report.fiveHundreds} responses were 5xx` : '',
  report.errors ? `${report.errors} connection errors (${report.timeouts} timeouts)` : '',
  report.rssEnd - report.rssMiddle > rssAllowance(report.rssMiddle) ? 'RSS grew in the second half beyond the allowance' : '',
].filter(Boolean);
if (problems.length) {
  console.error(`soak failed: ${problems.join('; ')}`);
  process.exit(1);
}
console.log('soak passed');
