// A counterexample as a swimlane: one column per actor (user threads, ring
// setup, io-wq workers, task work, exit work), one row per scheduler step
// with its number at the left and its label in the column of the actor
// that took it, and the step at which the property fails marked. A reader
// follows each actor down its column and sees where the others cut in.
// This file lays it out as text; reports/fuzz.ts draws the same as HTML.

/** One scheduler step: the actor that took it and what it did. */
export interface SwimlaneStep {
  readonly actor: string;
  readonly label: string;
}

/** What the text and HTML swimlanes draw. */
export interface Swimlane {
  /** Actors in order of first appearance: the columns. */
  readonly actors: readonly string[];
  /** The steps shown, by number; the bare 'start' step of an actor is left out unless it is the violating one. */
  readonly rows: readonly {
    readonly step: number;
    readonly column: number;
    readonly label: string;
  }[];
  readonly violationStep: number | null;
}

export function swimlane(steps: readonly SwimlaneStep[], violationStep: number | null): Swimlane {
  const actors: string[] = [];
  for (const s of steps) if (!actors.includes(s.actor)) actors.push(s.actor);
  const rows = steps.flatMap((s, step) =>
    s.label === 'start' && step !== violationStep
      ? []
      : [{ step, column: actors.indexOf(s.actor), label: s.label }],
  );
  return { actors, rows, violationStep };
}

/** What an actor is, from the names the models give them; '' for a name we do not know. */
export function actorRole(actor: string): string {
  const patterns: [RegExp, (m: RegExpMatchArray) => string][] = [
    [/^a(\d+):(.+)$/, (m) => `thread ${m[1]} of the scenario, protocol ${m[2]}`],
    [/^(p\d+[^#]*)#\d+$/, (m) => `process ${m[1]} creating its ring`],
    [/^iowq:req(\d+)$/, (m) => `io-wq worker issuing request ${m[1]}`],
    [/^tw:(.+)#\d+$/, (m) => `task work of ${m[1]}, run while it is idle in user space`],
    [/^fallback:ring(\d+)#\d+$/, (m) => `kworker running ring ${m[1]}'s fallback task work`],
    [/^ring-exit:ring(\d+)$/, (m) => `exit work freeing ring ${m[1]}`],
    [/^kworker:free-prog(\d+)$/, (m) => `kworker freeing program ${m[1]} after its grace period`],
  ];
  for (const [re, describe] of patterns) {
    const m = actor.match(re);
    if (m !== null) return describe(m);
  }
  return '';
}

// Where a word too long for its column may be cut: after one of these.
const BREAK_AFTER = new Set(['(', ')', '[', ']', '.', ',', ':', ';', '_', '-', '/', '=']);
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/**
 * Where to cut `word` to fit `width`: after the last punctuation that fits,
 * else at the last place that does not put a digit at the start of the
 * next line (so no number is split, nor parted from the name it counts:
 * "req1", "ring#3"). A number longer than the whole line is the only thing
 * cut mid-way.
 */
function breakPoint(word: string, width: number): number {
  for (let i = width; i >= 2; i--) {
    if (BREAK_AFTER.has(word[i - 1] ?? '') && !isDigit(word[i])) return i;
  }
  for (let i = width; i > 0; i--) if (!isDigit(word[i])) return i;
  return width;
}

/** `text` wrapped at spaces into lines of at most `width` (at least 1) characters. */
export function wrapCell(text: string, width: number): string[] {
  const room = Math.max(1, width);
  const pieces: string[] = [];
  for (let word of text.split(/\s+/).filter((w) => w !== '')) {
    while (word.length > room) {
      const cut = breakPoint(word, room);
      pieces.push(word.slice(0, cut));
      word = word.slice(cut);
    }
    pieces.push(word);
  }
  const lines: string[] = [];
  let line = '';
  for (const piece of pieces) {
    if (line === '') line = piece;
    else if (line.length + 1 + piece.length <= room) line += ` ${piece}`;
    else {
      lines.push(line);
      line = piece;
    }
  }
  lines.push(line);
  return lines;
}

export interface SwimlaneTextOptions {
  /** Columns of every line, margin included (default 80). */
  readonly width?: number;
  /**
   * Steps to show at most: past it, a window ending a few steps after the
   * violating one, with a line saying how many were left out on each side.
   */
  readonly maxSteps?: number;
}

/** The narrowest column worth wrapping labels in; with more actors than fit, each actor gets a narrow lane. */
const MIN_COLUMN = 16;
/** Steps shown after the violating one in a window. */
const AFTER_VIOLATION = 3;

/**
 * Column widths that share `room` fairly: no column wider than its widest
 * text needs, the rest split evenly among the columns that want more (so an
 * actor with short labels leaves room to one with long ones).
 */
function columnWidths(wanted: readonly number[], room: number): number[] {
  const widths = wanted.map(() => 0);
  let left = room;
  const order = wanted.map((w, i) => [w, i] as const).sort((x, y) => x[0] - y[0]);
  order.forEach(([w, i], k) => {
    const share = Math.floor(left / (order.length - k));
    widths[i] = Math.min(w, share);
    left -= widths[i] ?? 0;
  });
  return widths;
}

/** The rows of `lane` to draw within `maxSteps`, with the counts left out before and after. */
function window(lane: Swimlane, maxSteps: number) {
  const rows = lane.rows;
  if (rows.length <= maxSteps) return { rows, before: 0, after: 0 };
  const v = rows.findIndex((r) => r.step === lane.violationStep);
  const end = Math.min(rows.length, v < 0 ? rows.length : v + 1 + AFTER_VIOLATION);
  const start = Math.max(0, end - maxSteps);
  return {
    rows: rows.slice(start, start + maxSteps),
    before: start,
    after: rows.length - start - maxSteps,
  };
}

/**
 * The swimlane as text lines of at most `width` columns, no tabs: a legend
 * naming the actors, then one row per step, the violating step marked with
 * `>>` in the margin and `*` before its label. Labels wrap inside their
 * column. With more actors than columns of MIN_COLUMN fit, each actor gets
 * a lane as wide as its number, marked with the number where it acts, and
 * the label follows the lanes.
 */
export function swimlaneText(
  steps: readonly SwimlaneStep[],
  violationStep: number | null,
  opts: SwimlaneTextOptions = {},
): string[] {
  const width = opts.width ?? 80;
  const lane = swimlane(steps, violationStep);
  const n = lane.actors.length;
  const stepWidth = Math.max(4, String(steps.length).length);
  // '>> ', the step number right-aligned, one space.
  const margin = 3 + stepWidth + 1;
  const left = (step: number | null) =>
    (step === null
      ? ''
      : `${step === violationStep ? '>>' : '  '} ${String(step).padStart(stepWidth)}`
    ).padEnd(margin);
  const label = (r: Swimlane['rows'][number]) =>
    r.step === violationStep ? `*${r.label}` : r.label;

  const legend = lane.actors.flatMap((a, i) => {
    const role = actorRole(a);
    return wrapCell(`[${i}] ${a}${role === '' ? '' : `: ${role}`}`, width - 6).map(
      (l, k) => `${k === 0 ? '  ' : '      '}${l}`,
    );
  });
  const { rows, before, after } = window(lane, opts.maxSteps ?? Number.POSITIVE_INFINITY);
  const header: string[] = [];
  const body: string[] = [];
  const wanted = lane.actors.map((a, i) =>
    Math.max(
      `[${i}] ${a}`.length,
      ...rows.filter((r) => r.column === i).map((r) => label(r).length),
    ),
  );
  const widths = columnWidths(wanted, width - margin - (n - 1));
  // A column may be narrower than MIN_COLUMN only when everything in it fits.
  if (n > 0 && widths.every((w, i) => w >= Math.min(MIN_COLUMN, wanted[i] ?? 0))) {
    // Columns side by side, each text padded to its column and wrapped inside it.
    const side = (texts: readonly string[][]) =>
      Array.from({ length: Math.max(1, ...texts.map((t) => t.length)) }, (_, k) =>
        texts.map((t, i) => (t[k] ?? '').padEnd(widths[i] ?? 0)).join(' '),
      );
    side(lane.actors.map((a, i) => wrapCell(`[${i}] ${a}`, widths[i] ?? 0))).forEach((l, k) => {
      header.push(`${(k === 0 ? 'step' : '').padStart(margin - 1)} ${l}`.trimEnd());
    });
    header.push(`${'-'.repeat(margin - 1)} ${widths.map((w) => '-'.repeat(w)).join(' ')}`);
    for (const r of rows) {
      const texts = lane.actors.map((_, i) =>
        i === r.column ? wrapCell(label(r), widths[i] ?? 0) : [],
      );
      side(texts).forEach((l, k) => {
        body.push(`${left(k === 0 ? r.step : null)}${l}`.trimEnd());
      });
    }
  } else {
    // Narrow lanes: the acting actor's number in its lane, the label after all lanes; with too
    // many actors for lanes, the number before the label.
    const laneWidth = String(Math.max(0, n - 1)).length + 1;
    const lanes = n * laneWidth + 1 <= width - margin - 24 ? n : 0;
    const room = width - margin - (lanes === 0 ? 0 : lanes * laneWidth + 1);
    if (lanes > 0) {
      header.push(
        `${'step'.padStart(margin - 1)} ${lane.actors.map((_, i) => String(i).padStart(laneWidth)).join('')}`,
      );
    }
    for (const r of rows) {
      const mark = lanes === 0 ? `[${r.column}] ` : '';
      const lanePart =
        lanes === 0
          ? ''
          : `${lane.actors.map((_, i) => (i === r.column ? String(i) : '').padStart(laneWidth)).join('')} `;
      wrapCell(`${mark}${label(r)}`, room).forEach((l, k) => {
        const lead = k === 0 ? lanePart : ' '.repeat(lanePart.length);
        body.push(`${left(k === 0 ? r.step : null)}${lead}${l}`.trimEnd());
      });
    }
  }
  return [
    'actors:',
    ...legend,
    ...header,
    ...(before > 0 ? [`${' '.repeat(margin)}... ${before} earlier steps`] : []),
    ...body,
    ...(after > 0 ? [`${' '.repeat(margin)}... ${after} later steps`] : []),
  ];
}
