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
  'null-call': 'null',
  'unregister-liveness': 'live',
  isolation: 'iso',
  bounds: 'bnds',
  completion: 'cqe',
};

const jobsOf = (report: FuzzReport, design: string, p: PropertyName) =>
  report.results.filter((x) => x.design === design && x.property === p && x.mutant === null);

/** FAIL when any protocol found a counterexample, ok when all held, n/a when it cannot be checked. */
function cell(report: FuzzReport, design: string, p: PropertyName): string {
  const jobs = jobsOf(report, design, p);
  if (jobs.length === 0) return '';
  if (jobs.some((r) => r.verdict === 'violated')) return 'FAIL';
  return jobs.every((r) => r.verdict === 'not-applicable') ? 'n/a' : 'ok';
}

/** The protocols under which `p` failed for `design`. */
function failingProtocols(report: FuzzReport, design: string, p: PropertyName): string[] {
  return jobsOf(report, design, p)
    .filter((r) => r.verdict === 'violated')
    .map((r) => r.protocol);
}

/** The first counterexample of each (design, property). */
function firstCounterexamples(report: FuzzReport) {
  const seen = new Set<string>();
  return report.results.filter((r) => {
    const key = `${r.design}|${r.property}`;
    if (r.counterexample === null || r.mutant !== null || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
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
    '',
    "failing under the services' protocols (a hostile process may join any):",
    ...designsOf(report).flatMap((d) =>
      props.flatMap((p) => {
        const failing = failingProtocols(report, d, p);
        return failing.length === 0
          ? []
          : wrap(`${d} ${PROPERTY_ABBREV[p]}: ${failing.join(', ')}`, 78, '  ');
      }),
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
  for (const r of firstCounterexamples(report)) {
    const c = r.counterexample;
    if (c === null) continue;
    out.push('', ...wrap(`${r.design} / ${r.property} (${r.protocol}): ${c.message}`, 78));
    out.push(
      ...wrap(
        `seed ${c.seed}, path ${c.path}, first failure after ${c.timeToFirstFailureMs.toFixed(0)} ms, ${r.runs} runs, ${c.shrinks} shrinks`,
        78,
        '  ',
      ),
    );
    if (timelineLines === 0) continue;
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
  const examples = firstCounterexamples(report)
    .map((r) => {
      const c = r.counterexample;
      return `<details><summary>${esc(r.design)} / ${esc(r.property)} (${esc(r.protocol)}): ${esc(c?.message)}</summary>
<p class="note">seed ${esc(c?.seed)}, path ${esc(c?.path)}, first failure after ${esc(c?.timeToFirstFailureMs.toFixed(0))} ms</p>
<pre>${esc(c?.timeline.join('\n'))}</pre></details>`;
    })
    .join('\n');
  return `<table><thead>${head}</thead><tbody>${rows}</tbody></table>
${s.total === 0 ? '<p>Planted bugs: not run here (npm run fuzz runs them).</p>' : `<p>Mutation score: ${esc(s.killed)}/${esc(s.total)} planted bugs caught.</p><ul>${mutants}</ul>`}
${examples}`;
}
