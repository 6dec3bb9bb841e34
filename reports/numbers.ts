// One definition per number (DESIGN.md 5), shared by the headline and every
// table: a ratio is the median of per-round ratios (each round's value over
// its baseline measured in the same round) with the 95 % bootstrap interval
// of that median; a difference is the median of per-round differences,
// likewise. Printed through these formatters only, so a sentence and the
// table beside it show the same characters.

import type { Summary } from '../bench/stats.js';

/** A difference smaller than this share of its baseline is noise, whatever its interval (DESIGN.md 5). */
export const NOISE_BAND = 0.02;

/** What every ratio column and sentence means. */
export const RATIO_DEF = 'median of per-round ratios [95% CI]';
/** What every difference column and sentence means. */
export const DIFF_DEF = 'median of per-round differences [95% CI]';

/** "1.523x [1.501..1.540]": a ratio and its interval; a line may break between them, never inside a number. */
export function fmtRatio(s: Summary): string {
  return `${s.median.toFixed(3)}x [${s.ci95[0].toFixed(3)}..${s.ci95[1].toFixed(3)}]`;
}

const signed = (x: number, digits: number) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;

/** "+35.2ns [+33.1..+37.0]": a difference in ns and its interval. */
export function fmtDiff(s: Summary): string {
  return `${signed(s.median, 1)}ns [${signed(s.ci95[0], 1)}..${signed(s.ci95[1], 1)}]`;
}

/** A ratio is a difference only when its interval excludes 1 and it is outside the noise band. */
export function ratioResolved(s: Summary): boolean {
  return (s.ci95[0] > 1 || s.ci95[1] < 1) && Math.abs(s.median - 1) > NOISE_BAND;
}

/** A difference in ns counts only when its interval excludes 0 and it exceeds the noise band of `base` ns. */
export function diffResolved(s: Summary, base: number): boolean {
  return (s.ci95[0] > 0 || s.ci95[1] < 0) && Math.abs(s.median) > NOISE_BAND * Math.abs(base);
}

/** "resolved" or "not resolved (interval W wide)", the verdict column of every ratio table. */
export function ratioVerdict(s: Summary): string {
  return ratioResolved(s) ? 'resolved' : `not resolved (CI ${intervalWidth(s, 3)} wide)`;
}

/** The width of `s`'s interval from its bounds rounded as printed, so a reader computes the same. */
export function intervalWidth(s: Summary, digits: number): string {
  const [lo, hi] = s.ci95.map((x) => Number(x.toFixed(digits))) as [number, number];
  return (hi - lo).toFixed(digits);
}
