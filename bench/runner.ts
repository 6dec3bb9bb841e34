// Runs the selected lanes in order and assembles results.json. A lane that
// cannot run is recorded as skipped with its reason; one that throws is
// recorded as failed and the run goes on; the results then say incomplete.
// The state so far is always available, so an interrupted run can be saved.

import type { BenchOptions, Lane } from './lane.js';
import { LaneSkipped } from './lane.js';
import {
  type Json,
  type LaneResult,
  RESULTS_SCHEMA,
  RESULTS_SCHEMA_VERSION,
  type Results,
} from './results.js';

export interface RunHooks {
  onLaneStart?(lane: Lane): void;
  onLaneEnd?(result: LaneResult): void;
  progress?(lane: Lane, done: number, total: number): void;
}

export class BenchRun {
  readonly lanes: LaneResult[] = [];
  private current: { lane: Lane; startedAt: number } | null = null;
  readonly startedAt = new Date();

  constructor(
    readonly options: BenchOptions,
    readonly optionsJson: Json,
    readonly command: readonly string[],
    readonly environment: Json,
    readonly suiteVersion: string,
  ) {}

  /** Runs every lane in `lanes` in order. */
  async run(lanes: readonly Lane[], hooks: RunHooks = {}): Promise<void> {
    for (const lane of lanes) {
      this.current = { lane, startedAt: Date.now() };
      hooks.onLaneStart?.(lane);
      let result: LaneResult;
      try {
        const out = await lane.run({
          options: this.options,
          progress: (done, total) => hooks.progress?.(lane, done, total),
        });
        result = {
          lane: lane.name,
          status: 'ok',
          reason: null,
          durationMs: this.elapsed(),
          ...out,
        };
      } catch (e) {
        const skipped = e instanceof LaneSkipped;
        result = {
          lane: lane.name,
          status: skipped ? 'skipped' : 'failed',
          reason: (e as Error).message.split('\n')[0] ?? 'unknown error',
          durationMs: this.elapsed(),
          notes: [],
          metrics: [],
          details: skipped ? e.details : null,
        };
      }
      this.current = null;
      this.lanes.push(result);
      hooks.onLaneEnd?.(result);
    }
  }

  private elapsed(): number {
    return this.current === null ? 0 : Date.now() - this.current.startedAt;
  }

  /** The results so far; `interrupted` marks the lane that was running as interrupted. */
  results(interrupted: string | null = null): Results {
    const lanes = [...this.lanes];
    if (interrupted !== null && this.current !== null) {
      lanes.push({
        lane: this.current.lane.name,
        status: 'interrupted',
        reason: interrupted,
        durationMs: this.elapsed(),
        notes: [],
        metrics: [],
        details: null,
      });
    }
    const failed = lanes.filter((l) => l.status === 'failed' || l.status === 'interrupted');
    const reason =
      interrupted ??
      (failed.length > 0
        ? failed.map((l) => `${l.lane} lane ${l.status}: ${l.reason}`).join('; ')
        : null);
    return {
      schema: RESULTS_SCHEMA,
      schemaVersion: RESULTS_SCHEMA_VERSION,
      complete: reason === null,
      incompleteReason: reason,
      suiteVersion: this.suiteVersion,
      command: this.command,
      options: this.optionsJson,
      startedAt: this.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      environment: this.environment,
      lanes,
    };
  }
}
