// The fuzz matrix, the mutation score and the counterexamples, as text
// (at most 80 columns) and HTML. Each counterexample carries its replay
// command and its swimlane (fuzz/timeline.ts), the violating step marked.
// Reads a fuzz report only.

import { join } from 'node:path';
import { POSTED_DESIGNS } from '../designs/registry.js';
import { CORPUS_DIR, corpusFileName, replayCommand } from '../fuzz/corpus.js';
import type { Counterexample, JobResult } from '../fuzz/engine.js';
import type { FuzzReport } from '../fuzz/matrix.js';
import { PROPERTIES, PROPERTY_TEXT, type PropertyName } from '../fuzz/properties.js';
import { actorRole, swimlane, swimlaneText } from '../fuzz/timeline.js';
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
  crash: 'oops',
  deadlock: 'dead',
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

/** ' (not by its named effect, X)' when a planted bug was caught by another property than the one naming it. */
function offEffect(m: FuzzReport['mutants'][number]): string {
  const effect = m.effect ?? null;
  return m.killed && effect !== null && m.by !== effect
    ? ` (its named effect, ${effect}, held)`
    : '';
}

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

/**
 * One line per FAIL cell of the matrix: the command that replays its saved
 * counterexample (the file name names the design and the property).
 */
export function fuzzFailLines(report: FuzzReport, corpusDir = CORPUS_DIR): string[] {
  return designsOf(report).flatMap((d) =>
    propertiesOf(report)
      .filter((p) => cell(report, d, p) === 'FAIL')
      .map((p) => replayCommand(join(corpusDir, corpusFileName(d, p)))),
  );
}

/** "D3" for the third posted design, "D1+bf" for global-array+bounds-fix: DESIGN.md's numbering. */
export function designLabel(design: string): string {
  const [base, variant] = design.split('+') as [string, string | undefined];
  const i = POSTED_DESIGNS.findIndex((d) => d.name === base);
  const d = i < 0 ? base : `D${i + 1}`;
  return variant === undefined
    ? d
    : `${d}+${variant
        .split('-')
        .map((w) => w[0])
        .join('')}`;
}

/**
 * The matrix turned on its side to fit 80 columns: one row per property
 * (full name, so no legend), one short column per design, then the key.
 */
export function fuzzMatrixCompact(report: FuzzReport): string[] {
  const designs = designsOf(report);
  return [
    ...columns([
      ['property', ...designs.map(designLabel)],
      ...propertiesOf(report).map((p) => [p, ...designs.map((d) => cell(report, d, p))]),
    ]),
    ...wrap(designs.map((d) => `${designLabel(d)} ${d}`).join(', '), 78, '  '),
  ];
}

/** The HTML anchor of the counterexample of `property` on `design`. */
export const counterexampleAnchor = (design: string, property: string) =>
  `cx-${design}--${property}`.replace(/[^A-Za-z0-9_-]/g, '_');

/** Results written by an older suite carry a timeline of text lines instead of steps. */
type StoredCounterexample = Counterexample & { readonly timeline?: readonly string[] };

/** "step 80 (iowq:req1: issue_fn)", or null when the counterexample has no violating step. */
function violationText(c: StoredCounterexample): string | null {
  const v = c.violationStep;
  const step = v === null || v === undefined ? undefined : c.steps?.[v];
  return step === undefined ? null : `step ${v} (${step.actor}: ${step.label})`;
}

/** The command that replays `r`'s counterexample from the corpus in `corpusDir`. */
function replayOf(r: JobResult, corpusDir: string): string {
  return replayCommand(join(corpusDir, corpusFileName(r.design, r.property)));
}

export interface FuzzTextOptions {
  /** Steps of each swimlane to show (a window ending just after the violating step); 0 for none. */
  readonly swimlaneSteps?: number;
  /** Where the replay commands say the counterexamples are saved. */
  readonly corpusDir?: string;
}

/** The matrix, the score and each counterexample with its replay command and swimlane. */
export function fuzzTextLines(report: FuzzReport, opts: FuzzTextOptions = {}): string[] {
  const swimlaneSteps = opts.swimlaneSteps ?? 30;
  const corpusDir = opts.corpusDir ?? CORPUS_DIR;
  const out = fuzzMatrixLines(report);
  if (report.mutants.length > 0) {
    const s = mutationScore(report);
    out.push('', `mutation score: ${s.killed}/${s.total} planted bugs caught`);
    for (const m of report.mutants) {
      out.push(
        ...wrap(
          `${m.killed ? 'caught' : 'MISSED'} ${m.design} ${m.mutant}${m.by === null ? '' : ` by ${m.by}`}${offEffect(m)}: ${m.what}`,
          78,
          '  ',
        ),
      );
    }
  }
  for (const r of firstCounterexamples(report)) {
    const c = r.counterexample as StoredCounterexample | null;
    if (c === null) continue;
    out.push('', ...wrap(`${r.design} / ${r.property} (${r.protocol}): ${c.message}`, 78));
    const violation = violationText(c);
    out.push(
      ...wrap(
        `seed ${c.seed}, path ${c.path}, first failure after ${c.timeToFirstFailureMs.toFixed(0)} ms, ${r.runs} runs, ${c.shrinks} shrinks${c.removed === undefined ? '' : `, ${c.removed} more removed by the minimizer`}${violation === null ? '' : `; violated at ${violation}`}`,
        78,
        '  ',
      ),
      ...wrap(`replay: ${replayOf(r, corpusDir)}`, 78, '  '),
    );
    if (swimlaneSteps === 0) continue;
    if (c.steps === undefined) {
      // An older suite's timeline: its own lines, as they were.
      const tl = c.timeline ?? [];
      out.push(...tl.slice(0, swimlaneSteps).map((l) => `  ${l}`.slice(0, 80)));
      continue;
    }
    out.push(
      ...swimlaneText(c.steps, c.violationStep, { width: 78, maxSteps: swimlaneSteps }).map(
        (l) => `  ${l}`,
      ),
    );
  }
  return out;
}

/** A counterexample's swimlane as an HTML table: one column per actor, the violating row marked. */
export function swimlaneHtml(c: StoredCounterexample): string {
  if (c.steps === undefined) return `<pre>${esc((c.timeline ?? []).join('\n'))}</pre>`;
  const lane = swimlane(c.steps, c.violationStep);
  const legend = lane.actors
    .map((a, i) => {
      const role = actorRole(a);
      return `[${i}] ${esc(a)}${role === '' ? '' : `: ${esc(role)}`}`;
    })
    .join('; ');
  const head = `<tr><th>step</th>${lane.actors.map((a, i) => `<th title="${esc(actorRole(a))}">[${i}] ${esc(a)}</th>`).join('')}</tr>`;
  const rows = lane.rows
    .map((r) => {
      const violating = r.step === lane.violationStep;
      const cells = lane.actors
        .map((_, i) =>
          i !== r.column
            ? '<td></td>'
            : violating
              ? `<td><strong>* ${esc(r.label)}</strong></td>`
              : `<td>${esc(r.label)}</td>`,
        )
        .join('');
      return violating
        ? `<tr class="violation"><td>&gt;&gt; ${r.step}</td>${cells}</tr>`
        : `<tr><td>${r.step}</td>${cells}</tr>`;
    })
    .join('\n');
  return `<p class="note">actors: ${legend}</p>
<table class="swimlane"><thead>${head}</thead><tbody>
${rows}
</tbody></table>`;
}

/** The CSS class of each matrix verdict (the HTML report's style colours them). */
export const FUZZ_CELL_CLASS: Readonly<Record<string, string>> = {
  ok: 'fz-ok',
  FAIL: 'fz-fail',
  'n/a': 'fz-na',
};

const FUZZ_LEGEND = `<p class="legend"><span class="fz-ok">ok</span> no violation in the schedules explored <span class="fz-fail">FAIL</span> violated (links to its counterexample) <span class="fz-na">n/a</span> does not apply to the design; blank: not checked</p>`;

/** The same as HTML: matrix table (FAIL linking to its counterexample), score, and each counterexample in a details block. */
export function fuzzHtml(report: FuzzReport, corpusDir = CORPUS_DIR): string {
  const props = propertiesOf(report);
  const examples = firstCounterexamples(report);
  const matrixCell = (d: string, p: PropertyName) => {
    const text = cell(report, d, p);
    const linked = text === 'FAIL' && examples.some((r) => r.design === d && r.property === p);
    // Coloured by verdict (legend below the table); a FAIL links to its counterexample.
    const cls = FUZZ_CELL_CLASS[text] ?? '';
    const attr = cls === '' ? '' : ` class="${cls}"`;
    return linked
      ? `<td${attr}><a href="#${counterexampleAnchor(d, p)}">FAIL</a></td>`
      : `<td${attr}>${esc(text)}</td>`;
  };
  const head = `<tr><th>design</th>${props.map((p) => `<th title="${esc(PROPERTY_TEXT[p])}">${esc(p)}</th>`).join('')}</tr>`;
  const rows = designsOf(report)
    .map((d) => `<tr><td>${esc(d)}</td>${props.map((p) => matrixCell(d, p)).join('')}</tr>`)
    .join('\n');
  const s = mutationScore(report);
  const mutants = report.mutants
    .map(
      (m) =>
        `<li>${m.killed ? 'caught' : '<b>missed</b>'}: ${esc(m.design)} ${esc(m.mutant)}${m.by === null ? '' : ` by ${esc(m.by)}`}${esc(offEffect(m))} (${esc(m.what)})</li>`,
    )
    .join('');
  const details = examples
    .map((r) => {
      const c = r.counterexample as StoredCounterexample;
      const violation = violationText(c);
      // The anchor sits inside the details, so following a link to it opens them.
      return `<details><summary>${esc(r.design)} / ${esc(r.property)} (${esc(r.protocol)}): ${esc(c.message)}</summary>
<div id="${counterexampleAnchor(r.design, r.property)}">
<p class="note">seed ${esc(c.seed)}, path ${esc(c.path)}, first failure after ${esc(c.timeToFirstFailureMs.toFixed(0))} ms${violation === null ? '' : `; violated at ${esc(violation)}`}</p>
<p class="note">replay: <code>${esc(replayOf(r, corpusDir))}</code></p>
${swimlaneHtml(c)}
</div></details>`;
    })
    .join('\n');
  return `<table class="fuzz-matrix"><thead>${head}</thead><tbody>${rows}</tbody></table>
${FUZZ_LEGEND}
${s.total === 0 ? '<p>Planted bugs: not run here (npm run fuzz runs them).</p>' : `<p>Mutation score: ${esc(s.killed)}/${esc(s.total)} planted bugs caught.</p><ul>${mutants}</ul>`}
${details}`;
}
