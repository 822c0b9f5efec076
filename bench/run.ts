/**
 * `npm run bench -- <name> [options]` runs one benchmark; without a name, all of them in turn.
 * Each benchmark prints its own last line `BENCH <name> key=value ...`.
 */
import { UsageError } from './support.js';

const BENCHMARKS: Record<string, () => Promise<{ main: (args: string[]) => Promise<void> }>> = {
  engine: () => import('./engine.js'),
  redirect: () => import('./redirect.js'),
  'click-writer': () => import('./click-writer.js'),
  reports: () => import('./reports.js'),
  kpi: () => import('./kpi.js'),
};

async function run(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const names = name ? [name] : Object.keys(BENCHMARKS);
  for (const benchmark of names) {
    const load = BENCHMARKS[benchmark];
    if (!load) {
      process.stderr.write(`unknown benchmark "${benchmark}"; choose one of: ${Object.keys(BENCHMARKS).join(', ')}\n`);
      process.exit(2);
    }
    try {
      await (await load()).main(args);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      (err.help ? process.stdout : process.stderr).write(`${err.message}\n`);
      process.exit(err.help ? 0 : 2);
    }
  }
}

await run();
