// Results files made by hand for the report and compare tests: plausible
// numbers from a seeded generator, so the tests never depend on a real run.

import { type BenchOptions, metric } from '../../bench/lane.js';
import type { Json, LaneResult, Metric, Results } from '../../bench/results.js';
import { BenchRun } from '../../bench/runner.js';
import { seededRandom } from '../../bench/stats.js';
import { globalArray } from '../../designs/global-array.js';

const options: BenchOptions = {
  quick: true,
  lanes: ['kernel', 'native', 'memory'],
  designs: [globalArray],
  batches: [1, 128],
  threads: [1, 2],
  rings: [1, 16, 256, 4096],
  cpus: [],
  oversubscribe: false,
  placement: { mode: 'off', cpus: [] },
  rounds: 12,
  durationMs: 10,
  libbpf: null,
};

/** A lane that ran: its metrics, notes and details, as a lane writes them. */
export function okLane(
  lane: string,
  metrics: readonly Metric[],
  more: {
    readonly notes?: readonly string[];
    readonly details?: Json;
    readonly durationMs?: number;
  } = {},
): LaneResult {
  return {
    lane,
    status: 'ok',
    reason: null,
    durationMs: more.durationMs ?? 1,
    notes: more.notes ?? [],
    metrics,
    details: more.details ?? null,
  };
}

/** Per-round values around `center` with about 1 % noise. */
export function noisy(center: number, rounds: number, seed: number): number[] {
  const rand = seededRandom(seed);
  return Array.from({ length: rounds }, () => center * (1 + (rand() - 0.5) * 0.02));
}

const STANDINS: [string, string, string, number][] = [
  ['nop', 'global-array', 'none', 68],
  ['file-same', 'per-fd', 'same', 103],
  ['file-own', 'per-fd', 'own', 101],
  ['fixed-same', 'per-ctx per-fd-fixed', 'same', 76],
  ['fixed-own', 'per-ctx per-fd-fixed', 'own', 76],
  ['personality-d3', 'array-xarray global-alloc', 'none', 118],
];

/** A complete results file with kernel and memory lanes; `scale` multiplies every kernel value. */
export async function sampleResults(
  opts: {
    scale?: number;
    seed?: number;
    environment?: object;
    /** environment.virtualization ('kvm', 'tcg' or junk); absent without it, as in older results. */
    virtualization?: string;
    /** A --quick run (options.quick, the command); false by default, so no quick stamp. */
    quick?: boolean;
  } = {},
): Promise<Results> {
  const scale = opts.scale ?? 1;
  const seed = opts.seed ?? 1;
  const kernel: Metric[] = [];
  for (const t of [1, 2]) {
    for (const b of [1, 128]) {
      const nop = noisy(68 * (b === 1 ? 5 : 1) * scale, 12, seed + t * 10 + b);
      for (const [i, [s, designs, sharing, ns]] of STANDINS.entries()) {
        const values =
          s === 'nop' ? nop : noisy(ns * (b === 1 ? 4 : 1) * scale, 12, seed + t * 100 + b + i);
        kernel.push(
          metric(
            {
              id: `kernel/${s}/b${b}/t${t}`,
              lane: 'kernel',
              labels: { standin: s, designs, sharing, batch: b, threads: t },
              unit: 'ns/req',
              better: 'lower',
            },
            values,
            { id: `kernel/nop/b${b}/t${t}`, values: nop },
          ),
        );
      }
    }
  }
  const memory = [
    metric(
      {
        id: 'memory/global-array/r100/p16/shared',
        lane: 'memory',
        labels: { design: 'global-array', rings: 100, programs: 16, sharing: 'shared' },
        unit: 'bytes',
        better: 'lower',
      },
      [16_700],
    ),
    metric(
      {
        id: 'memory/per-ctx/r100/p16/shared',
        lane: 'memory',
        labels: { design: 'per-ctx', rings: 100, programs: 16, sharing: 'shared' },
        unit: 'bytes',
        better: 'lower',
      },
      [7_860_000],
    ),
  ];
  // Native lane: constant per-round values, so tests can state exact differences.
  const nativeCells: [string, string, string, number, number, number][] = [];
  for (const b of [1, 128]) {
    const k = b === 1 ? 5 : 1;
    nativeCells.push(['ring-only', 'ring-only', 'shared', b, 1, 68 * k]);
    nativeCells.push(['ring-only', 'ring-only', 'shared', b, 2, 68 * k]);
    for (const t of [1, 2]) {
      for (const sharing of t === 1 ? ['shared'] : ['shared', 'own']) {
        nativeCells.push(['core', 'ring', sharing, b, t, 80 * k]);
        nativeCells.push([
          'per-fd',
          'ring',
          sharing,
          b,
          t,
          (t === 2 && sharing === 'shared' ? 130 : 110) * k,
        ]);
        nativeCells.push(['per-fd-fixed', 'ring', sharing, b, t, 106 * k]);
        if (b === 128) {
          nativeCells.push(['core', 'pure', sharing, b, t, 10]);
          nativeCells.push([
            'per-fd',
            'pure',
            sharing,
            b,
            t,
            t === 2 && sharing === 'shared' ? 120 : 40,
          ]);
          nativeCells.push(['per-fd-fixed', 'pure', sharing, b, t, 35]);
        }
      }
    }
  }
  const nativeMetric = (
    d: string,
    loop: string,
    sharing: string,
    p: number,
    b: number,
    t: number,
    ns: number,
  ) =>
    metric(
      {
        id: `native/${d}/${loop}/${sharing}/p${p}/b${b}/t${t}`,
        lane: 'native',
        labels: { design: d, loop, sharing, programs: p, batch: b, threads: t },
        unit: 'ns/req',
        better: 'lower',
      },
      Array.from({ length: 12 }, () => ns),
    );
  const native = [
    ...nativeCells.map(([d, loop, sharing, b, t, ns]) =>
      nativeMetric(d, loop, sharing, 1, b, t, ns),
    ),
    nativeMetric('per-fd', 'pure', 'shared', 65535, 128, 1, 41),
  ];
  const quick = opts.quick ?? false;
  const run = new BenchRun(
    { ...options, quick },
    { quick },
    ['npm', 'run', 'bench', ...(quick ? ['--', '--quick'] : [])],
    {
      ...(opts.environment ?? {
        kernel: { release: '6.18.0-test', version: '#1 SMP', machine: 'x86_64', arch: 'x64' },
        cpu: { model: 'Test CPU', count: 2 },
        hypervisor: 'kvm',
        node: 'v20.0.0',
        gitCommit: 'abc',
        mitigations: { spectre_v2: 'Mitigation: Retpolines' },
      }),
      ...(opts.virtualization === undefined ? {} : { virtualization: opts.virtualization }),
    } as never,
    '0.1.0',
  );
  await run.run([
    {
      name: 'kernel',
      title: 'k',
      run: async () => ({
        metrics: kernel,
        notes: ['nop-async: left out of this fixture'],
        details: null,
      }),
    },
    {
      name: 'native',
      title: 'n',
      run: async () => ({ metrics: native, notes: [], details: null }),
    },
    {
      name: 'memory',
      title: 'm',
      run: async () => ({ metrics: memory, notes: [], details: { breakdowns: [] } }),
    },
  ]);
  return run.results();
}
