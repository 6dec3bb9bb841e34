// The fuzz report's counterexamples: in text, each has its replay command
// and its swimlane with the violating step marked, within 80 columns; in
// HTML, a swimlane table with one column per actor and the violating row
// highlighted, and the matrix's FAIL cell links to it. Old results (a text
// timeline, no steps) still render.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explain, type JobResult } from '../../fuzz/engine.js';
import type { FuzzReport } from '../../fuzz/matrix.js';
import type { Scenario } from '../../fuzz/scenario.js';
import { counterexampleAnchor, fuzzHtml, fuzzTextLines } from '../../reports/fuzz.js';

const program = { prep: 0, issueRet: 0, issueRes: 0, fail: false, cleanup: true };
/** A service registering id 1 and a hostile process asking global-array for id 300, past its table. */
const scenario: Scenario = {
  processes: [
    { ns: 0, team: 0 },
    { ns: 1, team: 9 },
  ],
  actors: [
    { process: 0, protocol: 'exclusive', id: 1, program, requests: [false], extra: 0 },
    { process: 1, protocol: 'hostile', id: 300, program, requests: [false], extra: 0 },
  ],
  priorities: [],
  changes: [],
};

function report(): FuzzReport {
  const why = explain('global-array', 'bounds', scenario);
  assert.ok(why !== null);
  const job = (property: string, verdict: string, withExample: boolean): JobResult =>
    ({
      design: 'global-array',
      mutant: null,
      protocol: 'mixed',
      property,
      verdict,
      runs: 10,
      ms: 1,
      reason: null,
      counterexample: withExample
        ? {
            message: why.message,
            seed: 5,
            path: '0:1',
            scenario,
            steps: why.steps,
            violationStep: why.violationStep,
            timeToFirstFailureMs: 3,
            shrinks: 2,
            removed: 1,
          }
        : null,
    }) as JobResult;
  return {
    results: [job('bounds', 'violated', true), job('hijack', 'holds', false)],
    mutants: [],
    ms: 5,
  };
}

describe('fuzz counterexamples in text', () => {
  it('carry the replay command and the marked swimlane, within 80 columns', () => {
    const lines = fuzzTextLines(report(), { swimlaneSteps: 1000 });
    for (const l of lines) assert.ok(l.length <= 80 && !l.includes('\t'), l);
    assert.ok(
      lines.includes('  replay: npm run fuzz -- --replay fuzz/corpus/global-array--bounds.json'),
    );
    const marked = lines.filter((l) => l.startsWith('  >>'));
    assert.equal(marked.length, 1);
    assert.match(marked[0] ?? '', /\*/);
    assert.ok(lines.some((l) => /violated at step \d+ \(a1:hostile: /.test(l)));
  });

  it('leave the swimlane out of the mail but keep the violating step and the replay', () => {
    const text = fuzzTextLines(report(), { swimlaneSteps: 0 }).join('\n');
    assert.doesNotMatch(text, /^ {2}>>/m);
    assert.match(text, /violated at step \d+/);
    assert.match(text, /replay: npm run fuzz -- --replay/);
  });
});

describe('fuzz counterexamples in HTML', () => {
  const html = fuzzHtml(report());

  it('link the FAIL cell to the counterexample, inside its details', () => {
    const anchor = counterexampleAnchor('global-array', 'bounds');
    assert.equal(anchor, 'cx-global-array--bounds');
    assert.match(html, new RegExp(`<td class="fz-fail"><a href="#${anchor}">FAIL</a></td>`));
    assert.match(html, new RegExp(`<details><summary>[^<]*</summary>\\n<div id="${anchor}">`));
    assert.equal(html.split('href="#').length - 1, 1, 'only the FAIL cell links');
    assert.doesNotMatch(html, /<script/i);
  });

  it('draw the swimlane as a table: one column per actor, the violating row highlighted', () => {
    const table = html.slice(html.indexOf('<table class="swimlane">'));
    const head = table.slice(0, table.indexOf('</thead>'));
    const columns = (head.match(/<th[ >]/g) ?? []).length;
    // The step column, then every actor of the run (ring setup, threads, kworkers) in order of appearance.
    const steps = report().results[0]?.counterexample?.steps ?? [];
    const actors = [...new Set(steps.map((st) => st.actor))];
    assert.equal(columns, 1 + actors.length);
    const hostile = actors.indexOf('a1:hostile');
    assert.match(head, new RegExp(`\\[${hostile}\\] a1:hostile`));
    const violating = table.match(/<tr class="violation">.*<\/tr>/g) ?? [];
    assert.equal(violating.length, 1);
    // The marked label is in the a1:hostile column.
    const after = actors.length - 1 - hostile;
    assert.match(
      violating[0] ?? '',
      new RegExp(
        `(<td></td>){${hostile}}<td><strong>\\* [^<]+</strong></td>(<td></td>){${after}}</tr>$`,
      ),
    );
    const rows = (table.match(/<tr[ >]/g) ?? []).length - 1;
    assert.ok(rows > 5, `${rows} rows`);
  });

  it('still render results with an older text timeline', () => {
    const r = report();
    const first = r.results[0] as JobResult;
    const {
      steps: _,
      violationStep: __,
      ...old
    } = first.counterexample as NonNullable<JobResult['counterexample']>;
    const legacy = {
      ...r,
      results: [{ ...first, counterexample: { ...old, timeline: ['   1 [0] io_uring_setup'] } }],
    } as unknown as FuzzReport;
    assert.match(fuzzHtml(legacy), /<pre> {3}1 \[0\] io_uring_setup<\/pre>/);
    assert.ok(fuzzTextLines(legacy).includes('     1 [0] io_uring_setup'));
  });
});
