// A counterexample as a per-actor timeline: one line per scheduler step,
// the actor's column given by its indentation, so a reader follows each
// actor down the page and sees where the others cut in.

import type { ScheduleEntry } from '../designs/scheduler.js';

/** Timeline lines for `history`, at most `width` columns. */
export function timeline(history: readonly ScheduleEntry[], width = 78): string[] {
  const actors: string[] = [];
  for (const h of history) if (!actors.includes(h.actor)) actors.push(h.actor);
  // The legend, several actors a line, so that it stays within `width` too.
  const lines: string[] = [];
  let legend = 'actors:';
  actors.forEach((a, i) => {
    const item = ` [${i}] ${a}`;
    if (legend.length + item.length > width) {
      lines.push(legend);
      legend = '       ';
    }
    legend += item;
  });
  lines.push(legend);
  history.forEach((h, step) => {
    if (h.label === 'start') return;
    const col = actors.indexOf(h.actor);
    const line = `${String(step).padStart(4)} ${' '.repeat(col * 2)}[${col}] ${h.label}`;
    lines.push(line.length <= width ? line : `${line.slice(0, width - 1)}~`);
  });
  return lines;
}
