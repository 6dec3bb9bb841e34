// The plain-text report for a mail reply: at most 80 columns, no tabs, no
// HTML, about 150 lines. The run's caveats, the headline (at most six
// bullets, each one claim with its lane and interval), which stand-in
// measures which design, the environment and a reproduce block, then one
// compact table per lane (value ± spread, ratios with their interval), the
// safety matrix with one replay command per FAIL, and pointers to the HTML
// report and the appendix (appendix.ts), which carries what does not fit.
// Reads results only.

import type { LaneResult, Metric, Results } from '../bench/results.js';
import type { FuzzReport } from '../fuzz/matrix.js';
import { bpfTables } from './bpf-view.js';
import { runCaveats } from './caveats.js';
import { environmentLines, runCommit } from './environment-view.js';
import {
  bytes,
  DIFF_DEF,
  type Findings,
  findings,
  fmtRatio,
  MEMORY_PROGRAMS,
  MEMORY_RINGS,
  RATIO_DEF,
  ratioVerdict,
} from './findings.js';
import { fuzzFailLines, fuzzMatrixCompact } from './fuzz.js';
import { kernelGrid } from './kernel-view.js';
import { type CrossCheckCell, crossCheck, nativeTable, nativeView } from './native-view.js';
import { PATCHED_BASELINE, patchedGrid } from './patched-view.js';
import { duration, registrationView } from './registration-view.js';
import { hasSharingCurve, sharingCurves } from './sharing-view.js';

/** A design as posted, not one with a fix applied ('per-ctx+unregistering-bit'). */
const isPosted = (design: string) => !design.includes('+');

/** The file next to report.txt that carries what the mail leaves out. */
export const APPENDIX_NAME = 'report-appendix.txt';

export const MAIL_WIDTH = 80;

/** Wraps `text` at spaces to lines of at most `width`, each starting with `indent`. */
export function wrap(text: string, width = MAIL_WIDTH - 2, indent = ''): string[] {
  const lines: string[] = [];
  let line = indent;
  const room = Math.max(1, width - indent.length);
  // A word longer than a line (a kernel version string) is cut into line-sized pieces; a path
  // never is, so it stays whole for copying even if its line runs over.
  const words = text
    .split(/\s+/)
    .filter((w) => w !== '')
    .flatMap((w) =>
      w.length <= room || w.includes('/') ? [w] : (w.match(new RegExp(`.{1,${room}}`, 'g')) ?? []),
    );
  for (const word of words) {
    if (line.trim() !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent;
    }
    line += line.trim() === '' ? word : ` ${word}`;
  }
  if (line.trim() !== '') lines.push(line);
  return lines;
}

/** A left-aligned first column and right-aligned others, two spaces apart. */
export function columns(rows: readonly (readonly string[])[]): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

export function ns(x: number): string {
  return x >= 1000 ? x.toFixed(0) : x.toFixed(1);
}

/** "68.1±1%": the median and half the 95 % interval relative to it, benchstat style. */
function value(m: Metric | undefined): string {
  if (m === undefined) return '-';
  const s = m.summary;
  const half = s.median === 0 ? 0 : ((s.ci95[1] - s.ci95[0]) / 2 / s.median) * 100;
  return `${ns(s.median)}±${half.toFixed(0)}%`;
}

/** The kernel lane's ns/request at every batch, for `t` threads. */
export function kernelNsTable(lane: LaneResult, t: number): string[] {
  const { cells, batches, standins, at } = kernelGrid(lane);
  const n = cells[0]?.summary.n ?? 0;
  return [
    '',
    ...wrap(
      `ns/request, ${t} thread${t > 1 ? 's' : ''}: median of ${n} rounds ± half its 95% CI, as % of the median`,
    ),
    ...columns([
      ['stand-in', ...batches.map((b) => `b${b}`)],
      ...standins.map((s) => [s, ...batches.map((b) => value(at(s, b, t)))]),
    ]),
  ];
}

/** Each stand-in's ns at the largest batch and one thread, and its ratio to plain NOP per thread count. */
export function kernelRatioTable(lane: LaneResult): string[] {
  const { cells, batches, threads, standins, at } = kernelGrid(lane);
  const b = batches.at(-1) ?? 0;
  const t1 = threads[0] ?? 1;
  const n = cells[0]?.summary.n ?? 0;
  return [
    '',
    ...wrap(
      `ns: b${b}, ${t1} thread, median of ${n} rounds ± half its 95% CI; xNOP: over NOP, ${RATIO_DEF}, not ns over ns; nop-async: a NOP punted to io-wq (IOSQE_ASYNC), no design lookup; other batches: appendix`,
    ),
    ...columns([
      ['stand-in', `ns b${b}`, ...threads.map((t) => `xNOP t${t}`)],
      ...standins.map((s) => [
        s,
        value(at(s, b, t1)),
        ...threads.map((t) => {
          const ratio = at(s, b, t)?.vsBaseline?.ratio;
          return s === 'nop' ? '1 (baseline)' : ratio === undefined ? '-' : fmtRatio(ratio);
        }),
      ]),
    ]),
  ];
}

/** One shared file against a file each, at the largest thread count (the headline's pairs). */
function kernelSharingTable(f: Findings): string[] {
  const seen = new Set<string>();
  const pairs = f.designs
    .flatMap((d) => d.sharing)
    .filter((s) => !seen.has(s.same) && seen.add(s.same));
  const first = pairs[0];
  if (first === undefined) return [];
  return [
    '',
    ...wrap(`same/own t${first.threads}: one file over one each, b${first.batch}, ${RATIO_DEF}`),
    ...columns([
      ['pair', `same/own t${first.threads}`, 'verdict'],
      ...pairs.map((s) => [`${s.same}/${s.own}`, fmtRatio(s.ratio), ratioVerdict(s.ratio)]),
    ]),
  ];
}

function kernelSection(lane: LaneResult, r: Results): string[] {
  return [...kernelRatioTable(lane), ...kernelSharingTable(findings(r))];
}

/** Bytes each design adds at 100 rings; the posted designs only unless `variants` (appendix). */
export function memorySection(lane: LaneResult, variants = false): string[] {
  const designs = [...new Set(lane.metrics.map((m) => String(m.labels.design)))].filter(
    (d) => variants || isPosted(d),
  );
  const get = (d: string, sharing: string, p: number) =>
    lane.metrics.find(
      (m) =>
        m.labels.design === d &&
        m.labels.rings === MEMORY_RINGS &&
        m.labels.programs === p &&
        m.labels.sharing === sharing,
    );
  const cell = (d: string, s: string, p: number) => {
    const m = get(d, s, p);
    return m === undefined ? 'no fit' : bytes(m.summary.median);
  };
  return [
    '',
    `bytes added at ${MEMORY_RINGS} rings, programs shared by all or each ring its own${variants ? '' : ' (fixes: appendix)'}`,
    ...columns([
      ['design', 'shared x1', `shared x${MEMORY_PROGRAMS}`, 'own x1', `own x${MEMORY_PROGRAMS}`],
      ...designs.map((d) => [
        d,
        cell(d, 'shared', 1),
        cell(d, 'shared', 16),
        cell(d, 'per-ring', 1),
        cell(d, 'per-ring', 16),
      ]),
    ]),
  ];
}

/** The TypeScript model lane's timings (appendix: they are not the kernel). */
export function modelSection(lane: LaneResult): string[] {
  const sizes = [...new Set(lane.metrics.map((m) => m.labels.programs as number))].sort(
    (a, b) => a - b,
  );
  const designs = [...new Set(lane.metrics.map((m) => String(m.labels.design)))];
  return [
    '',
    'ns per modelled request (TypeScript model, not the kernel), by programs;',
    'median of rounds',
    ...columns([
      ['design', ...sizes.map(String)],
      ...designs.map((d) => [
        d,
        ...sizes.map((n) => {
          const m = lane.metrics.find((x) => x.labels.design === d && x.labels.programs === n);
          return m === undefined ? '-' : ns(m.summary.median);
        }),
      ]),
    ]),
  ];
}

const NATIVE_RATIO = 'same/own';

/** The C designs' table; the designs as posted only unless `all` (the appendix adds the fixes). */
export function nativeSection(lane: LaneResult, all = false): string[] {
  const v = nativeView(lane);
  const t = Math.max(...v.threads);
  const n = lane.metrics[0]?.summary.n ?? 0;
  const med = (m: Metric | undefined) => (m === undefined ? '-' : ns(m.summary.median));
  const { head, rows } = nativeTable(v, med, {
    pure: 'pure',
    same: 'tN same',
    own: 'tN own',
    ratio: NATIVE_RATIO,
    iowq: 'io-wq',
    ring: 'ring',
  });
  // The t-thread ns cells go to the appendix: their ratio, with its interval, is what is quoted.
  const perThread = new Set([`t${t} same`, `t${t} own`]);
  const keep = head.map((h, i) => (perThread.has(h) ? -1 : i)).filter((i) => i >= 0);
  const pick = (row: readonly string[]) => keep.map((i) => row[i] ?? '');
  const ringOnly = v.at('ring-only', 'ring-only', 'shared', 1, v.batch, 1);
  return [
    '',
    ...wrap(
      `C models (not the kernel), b${v.batch}, ${n} rounds, median ns, 1 thread: pure (the path alone), io-wq (IOSQE_ASYNC), ring (in a NOP loop; ring-only ${med(ringOnly)}).${t > 1 ? ` ${NATIVE_RATIO}: t${t}, ${RATIO_DEF}.` : ''} ${all ? '' : 'The fixes: appendix.'}`,
    ),
    // The fixes' rows are in the appendix.
    ...columns([pick(head), ...rows.filter((row) => all || isPosted(row[0] ?? '')).map(pick)]),
  ];
}

/** Same/own at every thread count, per lane and pair: the contention curve (appendix); empty without one. */
export function sharingCurveSection(r: Results): string[] {
  const curves = sharingCurves(r);
  if (!hasSharingCurve(curves)) return [];
  return [
    '',
    ...wrap(
      `same/own at each thread count N (N rings, one per thread): every ring on the same object over each ring its own, ${RATIO_DEF}. kernel: the <x>-same over <x>-own stand-ins; native: each C design's pure loop, shared over own programs; bpf-standin: the hash shape (one key every ring reads) over per-ring (a key per ring), whose keys also differ, so read its change with N, not its level.`,
    ),
    ...columns([
      ['lane', 'pair', 'batch', 'N', 'same/own'],
      ...curves.flatMap((c) =>
        c.points.map((p) => [c.lane, c.pair, `b${c.batch}`, `t${p.threads}`, fmtRatio(p.ratio)]),
      ),
    ]),
  ];
}

/** The C designs at the largest thread count, ns/request with the same programs and with their own (appendix). */
export function nativeThreadsSection(lane: LaneResult): string[] {
  const v = nativeView(lane);
  const t = Math.max(...v.threads);
  if (t < 2) return [];
  const med = (m: Metric | undefined) => (m === undefined ? '-' : ns(m.summary.median));
  return [
    '',
    `C designs, pure loop, batch ${v.batch}, t${t}: median ns/request`,
    ...columns([
      ['design', `t${t} same`, `t${t} own`],
      ...v.designs.map((d) => [
        d,
        med(v.at(d, 'pure', 'shared', 1, v.batch, t)),
        med(v.at(d, 'pure', 'own', 1, v.batch, t)),
      ]),
    ]),
  ];
}

/** The C designs' ns/request by programs registered (appendix). */
export function nativeScalingSection(lane: LaneResult): string[] {
  const v = nativeView(lane);
  const med = (m: Metric | undefined) => (m === undefined ? '-' : ns(m.summary.median));
  const scaled = v.designs.filter((d) =>
    v.sizes.some((p) => p > 1 && v.at(d, 'pure', 'shared', p, v.batch, 1)),
  );
  if (scaled.length === 0) return [];
  return [
    '',
    `C designs by programs registered (pure loop, batch ${v.batch}, 1 thread), median ns`,
    ...columns([
      ['design', ...v.sizes.map(String)],
      ...scaled.map((d) => [
        d,
        ...v.sizes.map((p) => med(v.at(d, 'pure', 'shared', p, v.batch, 1))),
      ]),
    ]),
  ];
}

/** "1.23µs±4%": a duration and half its 95 % interval relative to it. */
function durationValue(m: Metric | undefined): string {
  if (m === undefined) return '-';
  const s = m.summary;
  const half = s.median === 0 ? 0 : ((s.ci95[1] - s.ci95[0]) / 2 / s.median) * 100;
  return `${duration(s.median).replace(' ', '')}±${half.toFixed(0)}%`;
}

/** Registration at every ring count (appendix), or only the largest (`largestOnly`, report.txt). */
export function registrationSection(lane: LaneResult, largestOnly = false): string[] {
  const v = registrationView(lane);
  const all = largestOnly ? v.rings.slice(-1) : v.rings;
  const shown = largestOnly ? v.designs.filter(isPosted) : v.designs;
  const out: string[] = [
    '',
    ...wrap(
      `Time for N rings to name one program, and to undo it: median ± half its 95% CI, ${v.rounds} rounds (C designs${largestOnly ? '; other N, fixes: appendix' : ''})`,
    ),
  ];
  const nameWidth = Math.max(6, ...v.designs.map((d) => d.length + 2));
  // As many ring columns as fit in a mail line; more make a second table.
  const perTable = Math.max(1, Math.floor((MAIL_WIDTH - nameWidth) / 13));
  if (largestOnly) {
    const n = all[0];
    if (n !== undefined)
      out.push(
        ...columns([
          ['design', `register N=${n}`, `unregister N=${n}`],
          ...v.designs
            .filter(isPosted)
            .map((d) => [
              `${d}${v.calls(d) === 'per ring' ? ' *' : ''}`,
              durationValue(v.at(d, n, 'register')),
              durationValue(v.at(d, n, 'unregister')),
            ]),
        ]),
      );
  } else
    for (const op of ['register', 'unregister'] as const)
      for (let i = 0; i < all.length; i += perTable) {
        const rings = all.slice(i, i + perTable);
        out.push(
          '',
          ...columns([
            [op, ...rings.map((n) => `N=${n}`)],
            ...v.designs.map((d) => [
              `${d}${v.calls(d) === 'per ring' ? ' *' : ''}`,
              ...rings.map((n) => durationValue(v.at(d, n, op))),
            ]),
          ]),
        );
      }
  if (shown.some((d) => v.calls(d) === 'per ring'))
    out.push(...wrap('*: one call per ring (N calls); the others make one call.'));
  if (v.structOps !== null)
    out.push(
      ...wrap(
        `real kernel, struct_ops ${v.structOps.type} (stand-in: a global registry, synchronize_rcu() on unregister): attach ${durationValue(v.structOps.attach)}, detach ${durationValue(v.structOps.detach)}`,
      ),
    );
  return out;
}

/** The BPF stand-in tables, for the smallest thread count only unless `allThreads`. */
export function bpfSection(lane: LaneResult, allThreads = false): string[] {
  const med = (m: Metric | undefined) => (m === undefined ? '-' : ns(m.summary.median));
  const out: string[] = [];
  const tables = bpfTables(lane, med);
  for (const t of allThreads ? tables : tables.slice(0, 1)) {
    // Which designs each shape stands in for is in the stand-in table at the top.
    const pick = (row: readonly string[]) => row.filter((_, i) => i !== 1);
    const more = !allThreads && tables.length > 1 ? ` Other thread counts: ${APPENDIX_NAME}.` : '';
    out.push(
      '',
      ...wrap(
        `median ns/request, ${t.threads} thread${t.threads > 1 ? 's' : ''}, NOPs with a BPF program finding its callee (on io_uring_submit_req; file-*: io_uring_file_get); +ns: over no program, ${DIFF_DEF}.${more}`,
      ),
      ...columns([pick(t.head), ...t.rows.map(pick)]),
    );
  }
  return out;
}

function patchedSection(lane: LaneResult): string[] {
  const g = patchedGrid(lane);
  const out: string[] = [];
  for (const t of g.threads) {
    out.push(
      '',
      ...wrap(
        `ns/request, ${t} thread${t > 1 ? 's' : ''}, median ± half its 95% CI of ${g.rounds} rounds; xnop: IORING_OP_BPF over plain IORING_OP_NOP on the same ring at b${g.largest}, ${RATIO_DEF}`,
      ),
    );
    const rows = [['variant', ...g.batches.map((b) => `b${b}`), 'xnop']];
    for (const v of g.variants) {
      const ratio = g.xnop(v, t);
      rows.push([
        v,
        ...g.batches.map((b) => value(g.at(v, b, t))),
        v === PATCHED_BASELINE ? '' : ratio === undefined ? '-' : fmtRatio(ratio),
      ]);
    }
    out.push(...columns(rows));
  }
  return out;
}

/** The native cost of each design next to its stand-in's kernel cost (appendix). */
export function crossCheckSection(r: Results): string[] {
  const rows = crossCheck(r);
  const first = rows[0];
  if (first === undefined) return [];
  const cell = (c: CrossCheckCell | undefined) =>
    c === undefined
      ? '-'
      : `${ns(c.native.median)}/${c.kernel === null ? '-' : ns(c.kernel.median)}`;
  return [
    '',
    `== cross-check: ns/request a design adds at batch ${first.batch}, native/kernel`,
    ...wrap(
      `native: the C design minus the C core, both in a real NOP loop; kernel: its stand-in minus plain NOP; both the ${DIFF_DEF.replace(/ \[.*\]$/, '')}. The stand-in exercises the same primitive; for global-array it is NOP itself.`,
    ),
    ...columns([
      [
        'design',
        'stand-in',
        ...first.cells.map((c) => `t${c.threads}${c.threads > 1 ? ` ${c.sharing}` : ''}`),
      ],
      ...rows.map((x) => [
        x.design,
        x.standin ?? '-',
        ...first.cells.map((c) =>
          cell(x.cells.find((y) => y.threads === c.threads && y.sharing === c.sharing)),
        ),
      ]),
    ]),
  ];
}

/** Up to this many FAILs get their replay command in report.txt; more are listed in the appendix. */
const MAX_FAIL_LINES = 8;

function fuzzSection(lane: LaneResult): string[] {
  // The matrix and the replay commands; each counterexample's message, violating step and
  // swimlane are in the appendix and the HTML.
  const report = lane.details as unknown as FuzzReport;
  const fails = fuzzFailLines(report);
  const replay =
    fails.length <= MAX_FAIL_LINES
      ? fails.length === 0
        ? []
        : ['replay each FAIL:', ...fails]
      : wrap(
          `${fails.length} FAILs: npm run fuzz -- --replay fuzz/corpus/DESIGN--PROPERTY.json ('+' is '_'); each with its message and swimlane: appendix`,
        );
  return [
    '',
    'ok = held in every run, FAIL = counterexample found, n/a = not expressible',
    ...fuzzMatrixCompact(report),
    ...replay,
  ];
}

const SECTIONS: Record<string, (lane: LaneResult, r: Results) => string[]> = {
  kernel: kernelSection,
  native: (lane) => nativeSection(lane),
  registration: (lane) => registrationSection(lane, true),
  'bpf-standin': (lane) => bpfSection(lane),
  patched: patchedSection,
  fuzz: fuzzSection,
};

/** Lanes whose notes report.txt prints; the others' notes are in the appendix. */
const NOTES_INLINE = new Set(['kernel', 'patched', 'bpf-standin']);

/** A skip or failure reason without its parenthesised detail (the appendix has it whole). */
function shortReason(reason: string): string {
  const i = reason.indexOf(' (');
  return i < 0 ? reason : `${reason.slice(0, i)} (detail: appendix)`;
}

/** Lanes whose tables live in the appendix only (TypeScript model timings; the memory model's bytes). */
const APPENDIX_ONLY = new Set(['model', 'memory']);

/** "personality-d1..d3" for a run of numbered stand-ins; others as they are. */
function compactNames(names: readonly string[]): string {
  const out: string[] = [];
  for (const n of names) {
    const m = /^(.*-d)(\d+)$/.exec(n);
    const prev = out.at(-1);
    const pm = prev === undefined ? null : /^(.*-d)(\d+)(?:\.\.d(\d+))?$/.exec(prev);
    if (m !== null && pm !== null && pm[1] === m[1])
      out[out.length - 1] = `${pm[1]}${pm[2]}..d${m[2]}`;
    else out.push(n);
  }
  return out.join(', ') || '-';
}

/** Which stand-in measures which design, and which designs share theirs. */
function standinSection(f: Findings): string[] {
  if (f.standins.every((s) => s.standins.length === 0 && s.shapes.length === 0)) return [];
  return [
    '',
    ...wrap('Stand-ins per design (designs on the same stand-ins share one result):'),
    ...columns([
      ['design', 'kernel stand-ins', 'bpf shapes', 'same as'],
      ...f.standins.map((s) => [
        s.design,
        compactNames(s.standins),
        compactNames(s.shapes),
        s.sharesWith.join(', ') || '-',
      ]),
    ]),
  ];
}

/** The commands that rebuild this run from its commit, and whether the tree matched it. */
function reproduceLines(r: Results): string[] {
  const git = runCommit(r);
  const tree =
    git === null
      ? 'tree state unknown (no git)'
      : git.dirty
        ? 'tree was DIRTY: uncommitted changes, the commit alone may not reproduce it'
        : 'tree was clean';
  // The command is broken between words only, with shell continuations.
  const cmd: string[] = [];
  let line = '  ';
  for (const word of r.command) {
    if (line.trim() !== '' && line.length + word.length + 3 > MAIL_WIDTH) {
      cmd.push(`${line} \\`);
      line = '    ';
    }
    line += line.trim() === '' ? word : ` ${word}`;
  }
  cmd.push(line);
  return [
    `reproduce (${tree}):`,
    '  git clone <this repository> iou-dispatch && cd iou-dispatch',
    `  git checkout ${git?.commit ?? '<commit unknown>'}`,
    '  npm ci --no-audit --no-fund',
    ...cmd,
  ];
}

function envLines(r: Results): string[] {
  // The environment block is reports/environment-view.ts's (issue 15: one place reads it).
  return environmentLines(r, MAIL_WIDTH);
}

/** The headline: one bullet per claim, each wrapped under its bullet. */
export function headlineLines(f: Findings): string[] {
  return f.headline.flatMap((h) =>
    wrap(h, MAIL_WIDTH - 2, '  ').map((l, i) => (i === 0 ? `* ${l.slice(2)}` : l)),
  );
}

/** The mail report of `results`, as one string of lines at most 80 columns with no tabs. */
export function textReport(
  r: Results,
  htmlName = 'report.html',
  appendixName = APPENDIX_NAME,
): string {
  const f = findings(r);
  const out: string[] = [];
  for (const c of runCaveats(r)) out.push(...wrap(`CAVEAT: ${c}`, MAIL_WIDTH, ''));
  if (!r.complete)
    out.push(...wrap(`CAVEAT: this run is INCOMPLETE: ${r.incompleteReason}`, MAIL_WIDTH, ''));
  if (out.length > 0) out.push('');
  out.push('iou-dispatch: how IORING_OP_BPF names its program, measured', '');
  out.push(...headlineLines(f));
  out.push(...standinSection(f), '');
  out.push(...envLines(r), '', ...reproduceLines(r));
  // The lanes told only in the appendix that ran: one line for all of them, where the first was.
  const appendixOnly = r.lanes.filter((l) => APPENDIX_ONLY.has(l.lane) && l.status === 'ok');
  for (const lane of r.lanes) {
    if (appendixOnly.includes(lane)) {
      if (lane === appendixOnly[0]) {
        const names = appendixOnly.map((l) => l.lane).join(', ');
        const lanes = appendixOnly.length === 1 ? 'lane' : 'lanes';
        out.push('', ...wrap(`== ${names} ${lanes}: ok (tables and notes: ${appendixName})`));
      }
      continue;
    }
    const inline = NOTES_INLINE.has(lane.lane) || lane.notes.length === 0;
    const notes = inline
      ? ''
      : ` (${lane.notes.length} note${lane.notes.length > 1 ? 's' : ''}: ${appendixName})`;
    const reason = lane.reason === null ? '' : `: ${shortReason(lane.reason)}`;
    const where = APPENDIX_ONLY.has(lane.lane) ? ` (tables and notes: ${appendixName})` : notes;
    out.push('', ...wrap(`== ${lane.lane} lane: ${lane.status}${reason}${where}`));
    // The model lane times the TypeScript models, not the kernel: appendix only.
    if (APPENDIX_ONLY.has(lane.lane)) continue;
    // Notes of the lanes the headline quotes stay here; the others' are in the appendix.
    if (inline) for (const note of lane.notes) out.push(...wrap(`note: ${note}`, MAIL_WIDTH, '  '));
    if (lane.status === 'ok') {
      const section = SECTIONS[lane.lane]?.(lane, r) ?? [];
      out.push(...(section[0] === '' ? section.slice(1) : section));
    }
  }
  out.push('', ...wrap(`Charts and per-round values: ${htmlName}; all else: ${appendixName}.`));
  return `${out
    .map((l) => l.replaceAll('\t', ' '))
    .flatMap((l) => (l.length <= MAIL_WIDTH ? [l] : wrap(l, MAIL_WIDTH)))
    .join('\n')}\n`;
}
