// `npm run compare -- BASE.json NEW.json`: verdict first, then each lane's
// shift and the metrics that changed; exit 1 on a regression, 0 otherwise
// (always when a run was under QEMU TCG, whose timings are not valid), 2
// when the files cannot be compared or the runs differ (unless --force).

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parsePositive, runCli, UsageError } from '../bench/args.js';
import { gitState } from '../bench/environment.js';
import { checkOutDir } from '../bench/out-dir.js';
import { type Results, readResults, validateResults, writeAtomic } from '../bench/results.js';
import {
  type CompareOptions,
  type Comparison,
  compareHtml,
  compareResults,
  compareText,
  DEFAULT_COMPARE,
  hasRegression,
} from './compare.js';
import { type Confirmation, confirmPlan, judgeConfirmation } from './confirm.js';

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
  --confirm         before calling a regression, re-run the flagged cells
                    (with their lanes' baselines, interleaved) on this
                    machine with this checkout, which must be NEW's commit
                    and kernel; only what the re-run shows again counts
  --out DIR         also write compare.txt and compare.html there
  -h, --help        this text`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      threshold: { type: 'string', default: String(DEFAULT_COMPARE.threshold * 100) },
      noise: { type: 'string', default: String(DEFAULT_COMPARE.noiseBand * 100) },
      out: { type: 'string' },
      force: { type: 'boolean' },
      confirm: { type: 'boolean' },
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
  const options: CompareOptions = {
    ...DEFAULT_COMPARE,
    threshold,
    noiseBand,
    force: values.force === true,
  };
  const c = compareResults(base.results, next.results, options);
  if (!c.ok)
    throw new UsageError(
      c.refused
        ? `refusing to compare ${basePath} and ${newPath}: ${c.reason} (--force to compare anyway)`
        : `cannot compare ${basePath} and ${newPath}: ${c.reason}`,
    );
  let confirmation: Confirmation | null = null;
  if (values.confirm === true && hasRegression(c)) {
    checkConfirmable(next.results, newPath);
    const rerun = await rerunFlagged(c, next.results);
    if (typeof rerun === 'number') return rerun;
    if (values.out !== undefined) {
      mkdirSync(values.out, { recursive: true });
      writeAtomic(join(values.out, 'confirm-results.json'), `${JSON.stringify(rerun, null, 2)}\n`);
    }
    // The re-run has only the flagged cells: its options differ from the base run's by design.
    const recheck = compareResults(base.results, rerun, { ...options, force: true });
    if (!recheck.ok) throw new Error(`the re-run cannot be compared: ${recheck.reason}`);
    confirmation = judgeConfirmation(c, recheck);
  }
  const [a, b] = [basename(basePath), basename(newPath)];
  const text = compareText(c, a, b, confirmation);
  process.stdout.write(text);
  if (values.out !== undefined) {
    mkdirSync(values.out, { recursive: true });
    writeAtomic(join(values.out, 'compare.txt'), text);
    writeAtomic(join(values.out, 'compare.html'), compareHtml(c, a, b, confirmation));
  }
  // A TCG run's timings are not valid: it never fails the comparison.
  if (c.tcg.length > 0) return 0;
  return hasRegression(c, confirmation) ? 1 : 0;
}

/** A re-run measures this checkout on this kernel: refuse (one line) when NEW was something else. */
function checkConfirmable(next: Results, newPath: string): void {
  const env = next.environment as { kernel?: { release?: unknown }; git?: unknown };
  const kernel = env?.kernel?.release;
  if (kernel !== release())
    throw new UsageError(
      `--confirm: ${newPath} was measured on kernel ${String(kernel)}, this machine runs ${release()}`,
    );
  const measured = env?.git as { commit?: unknown; dirty?: unknown } | null | undefined;
  const here = gitState();
  if (here === null || typeof measured?.commit !== 'string')
    throw new UsageError(`--confirm: cannot tell which commit ${newPath} or this checkout is`);
  if (measured.commit !== here.commit || measured.dirty !== here.dirty)
    throw new UsageError(
      `--confirm: ${newPath} was measured at ${measured.commit.slice(0, 12)}${measured.dirty === true ? '+dirty' : ''}, this checkout is ${here.commit.slice(0, 12)}${here.dirty ? '+dirty' : ''}`,
    );
}

/**
 * Runs `bench` on the flagged cells in its own process group (a Ctrl-C
 * reaches it once, through this process) and returns its results, or the
 * exit code to end with when it was interrupted.
 */
async function rerunFlagged(
  c: Extract<Comparison, { ok: true }>,
  next: Results,
): Promise<Results | number> {
  const plan = confirmPlan(c, next);
  if (plan === null) throw new Error('nothing flagged to confirm');
  const out = mkdtempSync(join(tmpdir(), 'iou-dispatch-confirm-'));
  const argv = [...plan.argv, '--out', out];
  console.error(
    `compare: ${plan.items} flagged; re-running them to confirm: npm run bench -- ${plan.argv.filter((x) => x !== '--json').join(' ')}`,
  );
  const bench = fileURLToPath(new URL('../bench/cli.js', import.meta.url));
  const child = spawn(process.execPath, [bench, ...argv], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const chunks: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => chunks.push(b));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) =>
    child.on('close', (code, signal) => done([code, signal])),
  );
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);
  rmSync(out, { recursive: true, force: true });
  if (code === 130 || code === 143 || signal !== null) {
    console.error('compare: the re-run was interrupted; nothing confirmed');
    return code ?? 130;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new Error(`the re-run (exit ${code}) printed no results`);
  }
  const checked = validateResults(parsed);
  if (!checked.ok) throw new Error(`the re-run's results: ${checked.error}`);
  if (!checked.results.complete)
    throw new Error(`the re-run did not complete: ${checked.results.incompleteReason}`);
  return checked.results;
}

runCli('compare', () => main(process.argv.slice(2)));
