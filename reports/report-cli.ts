// `npm run report -- results.json [--out DIR]`: renders report.html,
// report.txt, its appendix and bench.txt from a results file (next to it by
// default).

import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { runCli, UsageError } from '../bench/args.js';
import { checkOutDir } from '../bench/out-dir.js';
import { readResults } from '../bench/results.js';
import { renderReports } from './render.js';

const USAGE = `usage: npm run report -- RESULTS.json [--out DIR]
Renders report.html, report.txt (for mail), report-appendix.txt (what the
mail leaves out) and bench.txt (benchstat) from a results file, into DIR
(default: the results file's directory).`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one results file (see --help)');
  const path = positionals[0] as string;
  const read = readResults(path);
  if (!read.ok) throw new UsageError(read.error);
  const out = values.out ?? dirname(path);
  const problem = checkOutDir(out);
  if (problem !== null) throw new UsageError(problem);
  const { written, note } = await renderReports(read.results, out);
  if (note !== null) console.error(`report: ${note}`);
  for (const w of written) console.log(w);
  return 0;
}

runCli('report', () => main(process.argv.slice(2)));
