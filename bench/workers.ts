// The bench's worker options (--threads, --cpus, --oversubscribe, --no-pin)
// checked against the CPUs this process may run on, before any lane runs:
// a CPU outside the affinity mask, or more threads than usable CPUs without
// --oversubscribe, is a UsageError; the result says where workers go.

import { MAX_LIST } from '../native/index.js';
import { parseIntList, UsageError } from './args.js';
import type { BenchOptions } from './lane.js';
import { formatCpuList } from './proc.js';
import { MAX_THREADS, type Machine, planPlacement, threadLadder } from './topology.js';

/**
 * --threads, --cpus, --oversubscribe and --no-pin against the CPUs this
 * process may run on: every --cpus entry must be one of them, and more
 * threads than usable CPUs (those of --cpus when given) need --oversubscribe.
 */
export function parseWorkers(
  values: { threads?: string; cpus?: string; oversubscribe?: boolean; 'no-pin'?: boolean },
  machine: Machine,
): Pick<BenchOptions, 'threads' | 'cpus' | 'oversubscribe' | 'placement'> & {
  warnings: string[];
} {
  const allowed = formatCpuList(machine.allowed);
  const cpus = values.cpus === undefined ? [] : parseIntList('--cpus', values.cpus, 0, 4095);
  const outside = cpus.find((c) => !machine.allowed.includes(c));
  if (outside !== undefined)
    throw new UsageError(
      `--cpus: CPU ${outside} is not one this process may run on (affinity ${allowed})`,
    );
  const pin = values['no-pin'] !== true;
  if (!pin && cpus.length > 0) throw new UsageError('--cpus and --no-pin contradict each other');
  const usable = cpus.length > 0 ? new Set(cpus).size : machine.allowed.length;
  const threads =
    values.threads === undefined
      ? threadLadder(usable)
      : parseIntList('--threads', values.threads, 1, MAX_THREADS);
  // The native runners take at most MAX_LIST thread counts per run (native/src/threads.h RUN_MAX_LIST).
  if (threads.length > MAX_LIST)
    throw new UsageError(`--threads: ${threads.length} counts; at most ${MAX_LIST} per run`);
  const most = Math.max(...threads);
  const oversubscribe = values.oversubscribe === true;
  if (most > usable && !oversubscribe) {
    const from = cpus.length > 0 ? `--cpus gives ${usable}` : `this process may run on ${usable}`;
    throw new UsageError(
      `--threads: ${most} threads but ${from} CPU${usable === 1 ? '' : 's'} (affinity ${allowed}); add --oversubscribe to let them time-share`,
    );
  }
  const warnings =
    usable === 1
      ? [
          `bench: only 1 CPU usable (${cpus.length > 0 ? `--cpus ${cpus.join(',')}` : `affinity ${allowed}`}): threads ${threads.join(',')}; no parallel sharing is measured`,
        ]
      : [];
  return {
    threads,
    cpus,
    oversubscribe,
    placement: planPlacement(machine, most, cpus.length > 0 ? cpus : null, pin),
    warnings,
  };
}
