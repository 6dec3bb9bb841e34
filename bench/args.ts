// Command-line values shared by the suite's commands. A bad value is a
// UsageError: the command prints its one-line message and exits 2.

import type { DesignDef } from '../designs/design.js';
import { DESIGNS, findDesign } from '../designs/registry.js';

export class UsageError extends Error {}

/** Parses "1,8,32" into whole numbers within [min, max]. */
export function parseIntList(flag: string, value: string, min: number, max: number): number[] {
  const parts = value.split(',');
  const numbers = parts.map((p) => (/^\d+$/.test(p.trim()) ? Number(p.trim()) : Number.NaN));
  const bad = parts.find((_, i) => {
    const n = numbers[i] as number;
    return !Number.isInteger(n) || n < min || n > max;
  });
  if (value.trim() === '' || bad !== undefined) {
    throw new UsageError(`${flag}: '${bad ?? value}' is not a whole number from ${min} to ${max}`);
  }
  return numbers;
}

/** Parses one positive number (a duration, a count) no larger than `max`. */
export function parsePositive(flag: string, value: string, max: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > max) {
    throw new UsageError(`${flag}: '${value}' is not a number above 0 and at most ${max}`);
  }
  return n;
}

/** Parses one positive whole number (a count) no larger than `max`. */
export function parseWhole(flag: string, value: string, max: number): number {
  const n = parsePositive(flag, value, max);
  if (!Number.isInteger(n)) throw new UsageError(`${flag}: '${value}' is not a whole number`);
  return n;
}

/** Parses a comma-separated list of design names ('per-ctx,global-array+bounds-fix'); all when absent. */
export function parseDesigns(value: string | undefined): readonly DesignDef[] {
  if (value === undefined) return DESIGNS;
  return value.split(',').map((name) => {
    const found = findDesign(name.trim());
    if (!found.ok) throw new UsageError(`--designs: ${found.message}`);
    return found.design;
  });
}

/**
 * Runs a command's main and exits with its code. A UsageError or a
 * parseArgs error is one line and exit 2; anything else is a bug: the
 * stack and exit 1.
 */
export function runCli(name: string, main: () => Promise<number> | number): void {
  Promise.resolve()
    .then(main)
    .then(
      (code) => process.exit(code),
      (e: unknown) => {
        const usage =
          e instanceof UsageError ||
          (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
        // parseArgs spreads some messages over lines ('--rings -1': ambiguous, then the hint): keep one.
        const message = (e as Error).message.replaceAll(/\s*\n\s*/g, ' ');
        console.error(`${name}: ${usage ? message : ((e as Error).stack ?? String(e))}`);
        process.exit(usage ? 2 : 1);
      },
    );
}
