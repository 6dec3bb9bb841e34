// The fuzz matrix, the mutation score and the counterexamples, as text
// (at most 80 columns) and HTML. Reads a fuzz report only.

import type { FuzzReport } from '../fuzz/matrix.js';
import { PROPERTIES, PROPERTY_TEXT, type PropertyName } from '../fuzz/properties.js';
import { esc } from './html.js';
import { columns, wrap } from './text.js';

export const PROPERTY_ABBREV: Record<PropertyName, string> = {
  hijack: 'hijk',
  'stale-id': 'stale',
  consistency: 'cons',
  pairing: 'pair',
  'use-after-free': 'uaf',
  'unregister-liveness': 'live',
  isolation: 'iso',
  bounds: 'bnds',
  completion: 'cqe',
};

function cell(report: FuzzReport, design: string, p: PropertyName): string {
  const r = report.results.find(
    (x) => x.design === design && x.property === p && x.mutant === null,
  );
  if (r === undefined) return '';
  return r.verdict === 'holds' ? 'ok' : r.verdict === 'violated' ? 'FAIL' : 'n/a';
}

const designsOf = (report: FuzzReport) => [...new Set(report.results.map((r) => r.design))];
const propertiesOf = (report: FuzzReport) =>
  PROPERTIES.filter((p) => report.results.some((r) => r.property === p));

/** Killed and total mutants. */
export function mutationScore(report: FuzzReport): { killed: number; total: number } {
  return { killed: report.mutants.filter((m) => m.killed).length, total: report.mutants.length };
}

/** The safety matrix with its legend. */
export function fuzzMatrixLines(report: FuzzReport): string[] {
  const props = propertiesOf(report);
  return [
    'safety matrix: ok = held in every run, FAIL = counterexample found, n/a = not',
    'expressible for the design',
    ...columns([
      ['design', ...props.map((p) => PROPERTY_ABBREV[p])],
      ...designsOf(report).map((d) => [d, ...props.map((p) => cell(report, d, p))]),
    ]),
    '',
    ...props.flatMap((p) =>
      wrap(`${PROPERTY_ABBREV[p]}: ${PROPERTY_TEXT[p]}`, 78, '  ').map((l, i) =>
        i === 0 ? l : `      ${l.trim()}`,
      ),
    ),
  ];
}

/** The matrix, the score and each counterexample with its timeline (at most `timelineLines` lines each). */
export function fuzzTextLines(report: FuzzReport, timelineLines = 30): string[] {
  const out = fuzzMatrixLines(report);
  if (report.mutants.length > 0) {
    const s = mutationScore(report);
    out.push('', `mutation score: ${s.killed}/${s.total} planted bugs caught`);
    for (const m of report.mutants) {
      out.push(
        ...wrap(
          `${m.killed ? 'caught' : 'MISSED'} ${m.design} ${m.mutant}${m.by === null ? '' : ` by ${m.by}`}: ${m.what}`,
          78,
          '  ',
        ),
      );
    }
  }
  for (const r of report.results) {
    const c = r.counterexample;
    if (c === null || r.mutant !== null) continue;
    out.push('', ...wrap(`${r.design} / ${r.property}: ${c.message}`, 78));
    out.push(
      ...wrap(
        `seed ${c.seed}, path ${c.path}, first failure after ${c.timeToFirstFailureMs.toFixed(0)} ms, ${r.runs} runs, ${c.shrinks} shrinks`,
        78,
        '  ',
      ),
    );
    const tl = c.timeline;
    out.push(...tl.slice(0, timelineLines).map((l) => `  ${l}`.slice(0, 80)));
    if (tl.length > timelineLines)
      out.push(`  ... ${tl.length - timelineLines} more steps in the results`);
  }
  return out;
}

/** The same as HTML: matrix table, score, and each counterexample in a details block. */
export function fuzzHtml(report: FuzzReport): string {
  const props = propertiesOf(report);
  const head = `<tr><th>design</th>${props.map((p) => `<th title="${esc(PROPERTY_TEXT[p])}">${esc(p)}</th>`).join('')}</tr>`;
  const rows = designsOf(report)
    .map(
      (d) =>
        `<tr><td>${esc(d)}</td>${props.map((p) => `<td>${esc(cell(report, d, p))}</td>`).join('')}</tr>`,
    )
    .join('\n');
  const s = mutationScore(report);
  const mutants = report.mutants
    .map(
      (m) =>
        `<li>${m.killed ? 'caught' : '<b>missed</b>'}: ${esc(m.design)} ${esc(m.mutant)}${m.by === null ? '' : ` by ${esc(m.by)}`} (${esc(m.what)})</li>`,
    )
    .join('');
  const examples = report.results
    .filter((r) => r.counterexample !== null && r.mutant === null)
    .map((r) => {
      const c = r.counterexample;
      return `<details><summary>${esc(r.design)} / ${esc(r.property)}: ${esc(c?.message)}</summary>
<p class="note">seed ${esc(c?.seed)}, path ${esc(c?.path)}, first failure after ${esc(c?.timeToFirstFailureMs.toFixed(0))} ms</p>
<pre>${esc(c?.timeline.join('\n'))}</pre></details>`;
    })
    .join('\n');
  return `<table><thead>${head}</thead><tbody>${rows}</tbody></table>
<p>Mutation score: ${esc(s.killed)}/${esc(s.total)} planted bugs caught.</p><ul>${mutants}</ul>
${examples}`;
}
