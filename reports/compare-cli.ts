// `npm run compare -- BASE.json NEW.json`: per metric % change, interval
// and significance; exit 1 when a significant change beyond the threshold
// is a regression, 0 otherwise (always when a run was under QEMU TCG, whose
// timings are not valid), 2 when the files cannot be compared.

import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { parsePositive, runCli, UsageError } from '../bench/args.js';
import { checkOutDir } from '../bench/out-dir.js';
import { readResults, writeAtomic } from '../bench/results.js';
import { compareHtml, compareResults, compareText, DEFAULT_COMPARE } from './compare.js';

const USAGE = `usage: npm run compare -- BASE.json NEW.json [options]
Compares two results files metric by metric. Exit 1 when a regression is
found, 0 when none or when either run was under QEMU TCG (timings not
valid), 2 when the files cannot be compared. The registration lane's
metrics (single slow-path calls, and a kernel RCU grace period) are shown
but never counted.
  --threshold PCT   a regression must be larger than this (default 5)
  --noise PCT       changes below this are noise, shown as ~ (default 2)
  --out DIR         also write compare.txt and compare.html there
  -h, --help        this text`;

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      threshold: { type: 'string', default: String(DEFAULT_COMPARE.threshold * 100) },
      noise: { type: 'string', default: String(DEFAULT_COMPARE.noiseBand * 100) },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 2)
    throw new UsageError('give a base and a new results file (see --help)');
  const [basePath, newPath] = positionals as [string, string];
  const threshold = parsePositive('--threshold', values.threshold, 1000) / 100;
  const noiseBand = parsePositive('--noise', values.noise, 1000) / 100;
  const base = readResults(basePath);
  if (!base.ok) throw new UsageError(base.error);
  const next = readResults(newPath);
  if (!next.ok) throw new UsageError(next.error);
  if (values.out !== undefined) {
    const problem = checkOutDir(values.out);
    if (problem !== null) throw new UsageError(problem);
  }
  const c = compareResults(base.results, next.results, {
    ...DEFAULT_COMPARE,
    threshold,
    noiseBand,
  });
  if (!c.ok) throw new UsageError(`cannot compare ${basePath} and ${newPath}: ${c.reason}`);
  const [a, b] = [basename(basePath), basename(newPath)];
  const text = compareText(c, a, b);
  process.stdout.write(text);
  if (values.out !== undefined) {
    mkdirSync(values.out, { recursive: true });
    writeAtomic(join(values.out, 'compare.txt'), text);
    writeAtomic(join(values.out, 'compare.html'), compareHtml(c, a, b));
  }
  // A TCG run's timings are not valid: it never fails the comparison.
  if (c.tcg.length > 0) return 0;
  return c.deltas.some((d) => d.regression) ? 1 : 0;
}

runCli('compare', () => main(process.argv.slice(2)));
