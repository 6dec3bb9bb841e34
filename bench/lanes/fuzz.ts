// The fuzz lane: the safety matrix with a small budget (every design and
// property, no planted bugs), so every bench run carries safety verdicts.
// `npm run fuzz` is the full run with the mutation score.

import { CORPUS_DIR } from '../../fuzz/corpus.js';
import { DEFAULT_JOBS, runMatrix } from '../../fuzz/matrix.js';
import { PROPERTIES } from '../../fuzz/properties.js';
import { JOB_PROTOCOLS } from '../../fuzz/scenario.js';
import type { Lane } from '../lane.js';
import type { Json } from '../results.js';

/** Scenarios per (design, protocol, property) job: quick and default. */
export const FUZZ_LANE_RUNS = { quick: 20, default: 80 } as const;

export const fuzzLane: Lane = {
  name: 'fuzz',
  title: 'Safety properties, fuzzed on the models (small budget)',
  async run(ctx) {
    const runs = ctx.options.quick ? FUZZ_LANE_RUNS.quick : FUZZ_LANE_RUNS.default;
    const report = await runMatrix(
      {
        seed: 1,
        runs,
        mutantRuns: runs,
        timeLimitMs: 20_000,
        designs: ctx.options.designs,
        properties: [...PROPERTIES],
        protocols: [...JOB_PROTOCOLS],
        jobs: DEFAULT_JOBS,
        mutants: false,
        // The shipped counterexamples are tried first, so a small budget still finds what they show.
        corpus: CORPUS_DIR,
      },
      (done, total) => ctx.progress(done, total),
    );
    return {
      metrics: [],
      notes: [
        `${runs} scenarios per design, protocol and property, seed 1; npm run fuzz runs more and plants bugs`,
      ],
      details: JSON.parse(JSON.stringify(report)) as Json,
    };
  },
};
