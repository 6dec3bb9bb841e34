// `npm run native:overhead`: is the plain-NOP loop through the addon as fast
// as the same C loop in the standalone binary? Runs them alternately, round
// after round (addon, binary, addon, ...), and compares per-round medians.
// A benchmark, not a test: the result is printed, not asserted.

import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { parseIntList, parsePositive, runCli } from '../bench/args.js';
import { median, quantile } from '../bench/stats.js';
import { runStandins, STANDALONE_BINARY } from './index.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '15' },
      batches: { type: 'string', default: '1,32' },
      'sample-ms': { type: 'string', default: '50' },
    },
  });
  const rounds = parsePositive('--rounds', values.rounds, 1000);
  const batches = parseIntList('--batches', values.batches, 1, 256);
  const sampleMs = parsePositive('--sample-ms', values['sample-ms'], 60_000);
  const addon: Record<number, number[]> = {};
  const binary: Record<number, number[]> = {};
  for (const b of batches) {
    addon[b] = [];
    binary[b] = [];
  }
  for (let r = 0; r < rounds; r++) {
    const viaAddon = await runStandins({
      standins: ['nop'],
      batches,
      threads: [1],
      rounds: 1,
      sampleMs,
    });
    for (const cell of viaAddon.cells) addon[cell.batch]?.push(cell.nsPerReq[0] ?? Number.NaN);
    const run = spawnSync(
      STANDALONE_BINARY,
      [
        '--standins',
        'nop',
        '--batches',
        batches.join(','),
        '--rounds',
        '1',
        '--sample-ms',
        String(sampleMs),
        '--json',
      ],
      { encoding: 'utf8' },
    );
    if (run.status !== 0) throw new Error(`iou-standins failed: ${run.stderr.trim()}`);
    const out = JSON.parse(run.stdout) as { cells: { batch: number; nsPerReq: number[] }[] };
    for (const cell of out.cells) binary[cell.batch]?.push(cell.nsPerReq[0] ?? Number.NaN);
    process.stderr.write(`round ${r + 1}/${rounds}\r`);
  }
  console.log(`plain NOP, 1 thread, ${rounds} alternating rounds of ${sampleMs} ms`);
  console.log(
    'batch  addon ns/req  binary ns/req  addon/binary (median of per-round ratios, p25..p75)',
  );
  for (const b of batches) {
    const a = addon[b] ?? [];
    const s = binary[b] ?? [];
    const ratios = a.map((v, i) => v / (s[i] ?? Number.NaN));
    const pct = (x: number) => `${((x - 1) * 100).toFixed(1)}%`;
    console.log(
      `${String(b).padStart(5)}  ${median(a).toFixed(1).padStart(12)}  ${median(s).toFixed(1).padStart(13)}  ${pct(median(ratios))} (${pct(quantile(ratios, 0.25))}..${pct(quantile(ratios, 0.75))})`,
    );
  }
  return 0;
}

runCli('native:overhead', main);
