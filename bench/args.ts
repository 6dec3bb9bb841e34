// Command-line values shared by the suite's commands. A bad value is a
// UsageError: the command prints its one-line message and exits 2.

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
