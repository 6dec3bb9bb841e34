// `npm run probe`: what the running kernel's io_uring offers, and a quick
// table of the kernel stand-ins, so the kernel lane can be tried on its own.

import { release } from 'node:os';
import { parseArgs } from 'node:util';
import { parseIntList, parsePositive, parseWhole, runCli, UsageError } from '../bench/args.js';
import { progress } from '../bench/progress.js';
import { median, quantile } from '../bench/stats.js';
import {
  type KernelProbe,
  MAX_THREADS,
  probeKernel,
  runStandins,
  type StandinCell,
  standinDefs,
} from './index.js';

const USAGE = `usage: npm run probe -- [options]
Prints the io_uring probe of this kernel and a quick table of the stand-ins.
  --no-table         only the probe
  --json             the probe and the table's raw cells as JSON on stdout
  --batches LIST     batch sizes (default 1,32,128)
  --threads LIST     thread counts, one ring each, 1 to 1024 (default 1,2)
  --cpus LIST        pin worker i to cpus[i % n] (default: no pinning)
  --rounds N         interleaved rounds (default 5)
  --sample-ms MS     length of one timed sample (default 10)
  -h, --help         this text`;

function printProbe(p: Extract<KernelProbe, { available: true }>): void {
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  console.log(`io_uring on Linux ${release()}`);
  console.log(`  features:  ${p.featureNames.join(' ')}`);
  console.log(
    `  fast ring: ${p.fastFlags.join(' ') || '(no fast flags)'}; registered ring fd: ${yes(p.registeredRing)}`,
  );
  console.log(
    `  opcodes:   ${p.supportedOps.length} supported, last ${p.lastOp ?? `unknown (${p.probeError})`}; IORING_OP_BPF (65): ${yes(p.supportedOps.includes(65))}`,
  );
  const flag = (f: { name: string; accepted: boolean; errno: string | null }) =>
    `${f.name} ${f.accepted ? 'ok' : f.errno}`;
  console.log(`  NOP flags: ${p.nopFlags.map(flag).join(', ')}`);
  console.log(
    `             an undefined flag is ${p.unknownNopFlag.accepted ? 'ACCEPTED: flag probing cannot be trusted' : `rejected (${p.unknownNopFlag.errno})`}`,
  );
  console.log(`  setup:     ${p.setupFlags.map(flag).join(', ')}`);
}

function fmt(ns: number): string {
  return Number.isNaN(ns) ? '-' : ns >= 1000 ? ns.toFixed(0) : ns.toFixed(1);
}

function printTable(
  cells: readonly StandinCell[],
  batches: readonly number[],
  threads: readonly number[],
): void {
  console.log('\nStand-ins: median ns/request over the rounds [p25..p75]');
  const head = ['stand-in', 'thr', ...batches.map((b) => `batch ${b}`)];
  const rows = [head];
  for (const def of standinDefs()) {
    for (const t of threads) {
      const row = [def.name, String(t)];
      for (const b of batches) {
        const cell = cells.find((c) => c.standin === def.name && c.batch === b && c.threads === t);
        if (cell === undefined) row.push('');
        else if (cell.unsupported !== null) row.push(`unsupported (${cell.unsupported})`);
        else {
          const v = cell.nsPerReq;
          row.push(`${fmt(median(v))} [${fmt(quantile(v, 0.25))}..${fmt(quantile(v, 0.75))}]`);
        }
      }
      rows.push(row);
    }
  }
  const widths = head.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
  printSharing(cells, batches, threads);
}

/** The ublk question: two rings on one file versus each its own. */
function printSharing(
  cells: readonly StandinCell[],
  batches: readonly number[],
  threads: readonly number[],
): void {
  const t = Math.max(...threads);
  const b = Math.max(...batches);
  if (t < 2) return;
  const get = (name: string) =>
    cells.find((c) => c.standin === name && c.batch === b && c.threads === t);
  for (const [same, own] of [
    ['file-same', 'file-own'],
    ['fixed-same', 'fixed-own'],
  ] as const) {
    const a = get(same);
    const o = get(own);
    if (a === undefined || o === undefined || a.unsupported !== null || o.unsupported !== null)
      continue;
    const ratios = a.nsPerReq.map((ns, i) => ns / (o.nsPerReq[i] ?? Number.NaN));
    const pct = (r: number) => `${((r - 1) * 100).toFixed(1)}%`;
    console.log(
      `${t} threads, batch ${b}: ${same} vs ${own}: ${pct(median(ratios))} (per-round ratios ${pct(quantile(ratios, 0.25))}..${pct(quantile(ratios, 0.75))})`,
    );
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'no-table': { type: 'boolean' },
      json: { type: 'boolean' },
      batches: { type: 'string', default: '1,32,128' },
      threads: { type: 'string', default: '1,2' },
      cpus: { type: 'string' },
      rounds: { type: 'string', default: '5' },
      'sample-ms': { type: 'string', default: '10' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const batches = parseIntList('--batches', values.batches, 1, 256);
  const threads = parseIntList('--threads', values.threads, 1, MAX_THREADS);
  const cpus = values.cpus === undefined ? [] : parseIntList('--cpus', values.cpus, 0, 4095);
  const rounds = parseWhole('--rounds', values.rounds, 10_000);
  const sampleMs = parsePositive('--sample-ms', values['sample-ms'], 60_000);

  const probe = probeKernel();
  if (!probe.available) {
    if (values.json) console.log(JSON.stringify({ probe }));
    else console.log(`kernel lane unavailable: ${probe.reason}`);
    return 0;
  }
  if (!values.json) printProbe(probe);
  if (values['no-table']) {
    if (values.json) console.log(JSON.stringify({ probe }, null, 2));
    return 0;
  }
  const bar = progress('measuring stand-ins');
  const result = await runStandins({ batches, threads, cpus, rounds, sampleMs }, (d, t) =>
    bar.update(d, t),
  ).catch((e: Error) => {
    // A --cpus entry this process may not run on: the user's input, not a bug.
    throw e.message.startsWith('cannot pin') ? new UsageError(`--cpus: ${e.message}`) : e;
  });
  bar.done();
  if (values.json) console.log(JSON.stringify({ probe, ...result }, null, 2));
  else printTable(result.cells, batches, threads);
  return 0;
}

runCli('probe', main);
