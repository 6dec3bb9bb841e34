// What a lane is: a named plug-in that measures one thing and returns
// metrics. The runner knows lanes only through this interface and the list
// in lanes/index.ts; lanes never format, renderers never measure.

import type { DesignDef } from '../designs/design.js';
import type { Json, Metric } from './results.js';
import { perRoundRatios, summarize } from './stats.js';
import type { Placement } from './topology.js';

export interface BenchOptions {
  readonly quick: boolean;
  readonly lanes: readonly string[];
  readonly designs: readonly DesignDef[];
  readonly batches: readonly number[];
  readonly threads: readonly number[];
  /** Ring counts of the registration lane (1..65536, ascending, no repeats). */
  readonly rings: readonly number[];
  /** --cpus as given (empty when not given). */
  readonly cpus: readonly number[];
  /** More threads than usable CPUs was asked for (--oversubscribe). */
  readonly oversubscribe: boolean;
  /** Where the lanes that pin put their workers (bench/topology.ts). */
  readonly placement: Placement;
  readonly rounds: number;
  /** Length of one timed sample in ms (kernel lane) or of one task per round (model lane). */
  readonly durationMs: number;
  /** The patched lane's libbpf: a directory with include/bpf/ and lib/libbpf.a, or null for the system's. */
  readonly libbpf: string | null;
}

export interface LaneContext {
  readonly options: BenchOptions;
  /** Reports progress within the lane: (units done, units in all). */
  progress(done: number, total: number): void;
}

export interface LaneOutput {
  readonly metrics: readonly Metric[];
  readonly notes: readonly string[];
  readonly details: Json;
}

/** Thrown by a lane that cannot run here; its message is the one-line reason, `details` what it found. */
export class LaneSkipped extends Error {
  constructor(
    message: string,
    readonly details: Json = null,
  ) {
    super(message);
  }
}

export interface Lane {
  readonly name: string;
  readonly title: string;
  run(ctx: LaneContext): Promise<LaneOutput>;
}

/** A metric from raw per-round values, with its summary and (optionally) the ratio to a baseline. */
export function metric(
  fields: Pick<Metric, 'id' | 'lane' | 'labels' | 'unit' | 'better'>,
  values: readonly number[],
  baseline?: { readonly id: string; readonly values: readonly number[] },
): Metric {
  return {
    ...fields,
    values,
    summary: summarize(values),
    vsBaseline:
      baseline === undefined || baseline.id === fields.id
        ? null
        : { baseline: baseline.id, ratio: summarize(perRoundRatios(values, baseline.values)) },
  };
}
