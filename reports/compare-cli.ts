// `npm run compare -- BASE.json NEW.json`: verdict first, then each lane's
// shift and the metrics that changed; exit 1 on a regression, 0 otherwise
// (always when a run was under QEMU TCG, whose timings are not valid), 2
// when the files cannot be compared or the runs differ (unless --force).

import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { parsePositive, runCli, UsageError } from '../bench/args.js';
import { checkOutDir } from '../bench/out-dir.js';
import { readResults, writeAtomic } from '../bench/results.js';
import {
  compareHtml,
  compareResults,
  compareText,
  DEFAULT_COMPARE,
  hasRegression,
} from './compare.js';

const USAGE = `usage: npm run compare -- BASE.json NEW.json [options]
Compares two results files: each timed metric's raw values and its
per-round ratio to its lane's baseline (Mann-Whitney, Holm-corrected over
all tests), and each lane as a whole (geometric mean, bootstrap interval).
Exit 1 when a regression is found, 0 when none or when either run was under
QEMU TCG (timings not valid), 2 when the files cannot be compared or were
made with different options, lanes or kernels. The registration, model and
memory lanes are shown but never set the exit code.
  --threshold PCT   a regression must be larger than this (default 5)
  --noise PCT       changes below this are noise, not called (default 2)
  --force           compare runs whose options, lanes or kernel differ
  --out DIR         also write compare.txt and compare.html there
  -h, --help        this text`;

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      threshold: { type: 'string', default: String(DEFAULT_COMPARE.threshold * 100) },
      noise: { type: 'string', default: String(DEFAULT_COMPARE.noiseBand * 100) },
      out: { type: 'string' },
      force: { type: 'boolean' },
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
    force: values.force === true,
  });
  if (!c.ok)
    throw new UsageError(
      c.refused
        ? `refusing to compare ${basePath} and ${newPath}: ${c.reason} (--force to compare anyway)`
        : `cannot compare ${basePath} and ${newPath}: ${c.reason}`,
    );
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
  return hasRegression(c) ? 1 : 0;
}

runCli('compare', () => main(process.argv.slice(2)));
