// The plain-text report for a mail reply: at most 80 columns, no tabs, no
// HTML. The run's caveats, a headline paragraph, the command and environment, then one table
// per lane in the style kernel developers read (value ± spread), and a
// pointer to the HTML report. Reads results only.

import type { LaneResult, Metric, Results } from '../bench/results.js';
import type { FuzzReport } from '../fuzz/matrix.js';
import { bpfTables } from './bpf-view.js';
import { runCaveats } from './caveats.js';
import { environmentLines } from './environment-view.js';
import { bytes, findings, MEMORY_PROGRAMS, MEMORY_RINGS } from './findings.js';
import { fuzzTextLines } from './fuzz.js';
import { kernelGrid } from './kernel-view.js';
import { type CrossCheckCell, crossCheck, nativeTable, nativeView } from './native-view.js';
import { PATCHED_BASELINE, patchedGrid, ratioWithInterval } from './patched-view.js';
import { duration, registrationView } from './registration-view.js';

export const MAIL_WIDTH = 80;

/** Wraps `text` at spaces to lines of at most `width`, each starting with `indent`. */
export function wrap(text: string, width = MAIL_WIDTH - 2, indent = ''): string[] {
  const lines: string[] = [];
  let line = indent;
  const room = Math.max(1, width - indent.length);
  // A word longer than a line (a kernel version string, a path) is cut into line-sized pieces.
  const words = text
    .split(/\s+/)
    .filter((w) => w !== '')
    .flatMap((w) => (w.length <= room ? [w] : (w.match(new RegExp(`.{1,${room}}`, 'g')) ?? [])));
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

function ns(x: number): string {
  return x >= 1000 ? x.toFixed(0) : x.toFixed(1);
}

/** "68.1±1%": the median and half the 95 % interval relative to it, benchstat style. */
function value(m: Metric | undefined): string {
  if (m === undefined) return '-';
  const s = m.summary;
  const half = s.median === 0 ? 0 : ((s.ci95[1] - s.ci95[0]) / 2 / s.median) * 100;
  return `${ns(s.median)}±${half.toFixed(0)}%`;
}

function kernelSection(lane: LaneResult): string[] {
  const { cells, batches, threads, standins, at: cellAt } = kernelGrid(lane);
  const out: string[] = [];
  const n = cells[0]?.summary.n ?? 0;
  for (const t of threads) {
    out.push(
      '',
      `ns/request, ${t} thread${t > 1 ? 's' : ''}, median±CI95 of ${n} rounds; xnop: ratio at b${batches.at(-1)}`,
    );
    const rows = [['stand-in', ...batches.map((b) => `b${b}`), 'xnop']];
    for (const s of standins) {
      const at = (b: number) => cellAt(s, b, t);
      const ratio = at(batches.at(-1) ?? 0)?.vsBaseline?.ratio.median;
      rows.push([
        s,
        ...batches.map((b) => value(at(b))),
        ratio === undefined ? '' : `${ratio.toFixed(2)}x`,
      ]);
    }
    out.push(...columns(rows));
  }
  return out;
}

function memorySection(lane: LaneResult): string[] {
  const designs = [...new Set(lane.metrics.map((m) => String(m.labels.design)))];
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
    `bytes added at ${MEMORY_RINGS} rings; programs shared by all rings or each ring its own`,
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

function modelSection(lane: LaneResult): string[] {
  const sizes = [...new Set(lane.metrics.map((m) => m.labels.programs as number))].sort(
    (a, b) => a - b,
  );
  const designs = [...new Set(lane.metrics.map((m) => String(m.labels.design)))];
  return [
    '',
    'ns per modelled request (TypeScript model, not the kernel), by programs',
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

function nativeSection(lane: LaneResult): string[] {
  const v = nativeView(lane);
  const t = Math.max(...v.threads);
  const n = lane.metrics[0]?.summary.n ?? 0;
  const med = (m: Metric | undefined) => (m === undefined ? '-' : ns(m.summary.median));
  const { head, rows } = nativeTable(v, med, {
    pure: 'pure',
    same: 'tN same',
    own: 'tN own',
    ratio: 'same/own',
    iowq: 'io-wq',
    ring: 'ring',
  });
  const ringOnly = v.at('ring-only', 'ring-only', 'shared', 1, v.batch, 1);
  const out = [
    '',
    ...wrap(
      `ns/request of the C designs at batch ${v.batch}, median of ${n} rounds, 1 thread unless t${t}. pure: the design's path alone; io-wq: the same with IOSQE_ASYNC (issue without uring_lock); ring: inside a real NOP submission loop (ring-only: ${med(ringOnly)}); same/own: every ring on the same programs vs each its own.`,
    ),
    ...columns([head, ...rows]),
  ];
  const scaled = v.designs.filter((d) =>
    v.sizes.some((p) => p > 1 && v.at(d, 'pure', 'shared', p, v.batch, 1)),
  );
  if (scaled.length > 0) {
    out.push('', `by programs registered (pure loop, batch ${v.batch}, 1 thread)`);
    out.push(
      ...columns([
        ['design', ...v.sizes.map(String)],
        ...scaled.map((d) => [
          d,
          ...v.sizes.map((p) => med(v.at(d, 'pure', 'shared', p, v.batch, 1))),
        ]),
      ]),
    );
  }
  return out;
}

/** "1.23µs±4%": a duration and half its 95 % interval relative to it. */
function durationValue(m: Metric | undefined): string {
  if (m === undefined) return '-';
  const s = m.summary;
  const half = s.median === 0 ? 0 : ((s.ci95[1] - s.ci95[0]) / 2 / s.median) * 100;
  return `${duration(s.median).replace(' ', '')}±${half.toFixed(0)}%`;
}

function registrationSection(lane: LaneResult): string[] {
  const v = registrationView(lane);
  const out: string[] = [
    '',
    ...wrap(
      `Registration: time for the registration that lets N rings name one program, and its undoing, median±CI95 of ${v.rounds} rounds (C designs: their locks and a C grace period, not the kernel's; see the note).`,
    ),
  ];
  const nameWidth = Math.max(6, ...v.designs.map((d) => d.length + 2));
  // As many ring columns as fit in a mail line; more make a second table.
  const perTable = Math.max(1, Math.floor((MAIL_WIDTH - nameWidth) / 13));
  for (const op of ['register', 'unregister'] as const)
    for (let i = 0; i < v.rings.length; i += perTable) {
      const rings = v.rings.slice(i, i + perTable);
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
  if (v.designs.some((d) => v.calls(d) === 'per ring'))
    out.push(...wrap('*: one call per ring (N calls); the others make one call.'));
  if (v.structOps !== null)
    out.push(
      '',
      ...wrap(
        `real kernel, struct_ops ${v.structOps.type} (stand-in: a global registry, synchronize_rcu() on unregister): attach ${durationValue(v.structOps.attach)}, detach ${durationValue(v.structOps.detach)}`,
      ),
    );
  return out;
}

function bpfSection(lane: LaneResult): string[] {
  const med = (m: Metric | undefined) => (m === undefined ? '-' : ns(m.summary.median));
  const out: string[] = [];
  for (const t of bpfTables(lane, med)) {
    out.push(
      '',
      ...wrap(
        `ns/request, ${t.threads} thread${t.threads > 1 ? 's' : ''}: NOPs with a BPF program on io_uring_submit_req (NOP_FILE on io_uring_file_get for file-*) that finds its callee and tail-calls it; +ns: added over the same requests with no program.`,
      ),
      ...columns([t.head, ...t.rows]),
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
        `ns/request, ${t} thread${t > 1 ? 's' : ''}, median±CI95 of ${g.rounds} rounds; xnop: IORING_OP_BPF over plain IORING_OP_NOP on the same ring at b${g.largest}, median [CI95] of per-round ratios`,
      ),
    );
    const rows = [['variant', ...g.batches.map((b) => `b${b}`), 'xnop']];
    for (const v of g.variants) {
      const ratio = g.xnop(v, t);
      rows.push([
        v,
        ...g.batches.map((b) => value(g.at(v, b, t))),
        v === PATCHED_BASELINE ? '' : ratio === undefined ? '-' : ratioWithInterval(ratio),
      ]);
    }
    out.push(...columns(rows));
  }
  return out;
}

function crossCheckSection(r: Results): string[] {
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
      'native: the C design minus the C core, both in a real NOP loop; kernel: its stand-in minus plain NOP (medians of per-round differences). The stand-in exercises the same primitive; for global-array it is NOP itself.',
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

function fuzzSection(lane: LaneResult): string[] {
  // Swimlanes are long; the mail carries each counterexample's line, violating step and replay
  // command, the HTML the swimlane.
  return ['', ...fuzzTextLines(lane.details as unknown as FuzzReport, { swimlaneSteps: 0 })];
}

const SECTIONS: Record<string, (lane: LaneResult) => string[]> = {
  kernel: kernelSection,
  native: nativeSection,
  registration: registrationSection,
  'bpf-standin': bpfSection,
  patched: patchedSection,
  model: modelSection,
  memory: memorySection,
  fuzz: fuzzSection,
};

function envLines(r: Results): string[] {
  // The environment block is reports/environment-view.ts's (issue 15: one place reads it).
  return environmentLines(r, MAIL_WIDTH);
}

/** The mail report of `results`, as one string of lines at most 80 columns with no tabs. */
export function textReport(r: Results, htmlName = 'report.html'): string {
  const f = findings(r);
  const out: string[] = [];
  for (const c of runCaveats(r)) out.push(...wrap(`CAVEAT: ${c}`, MAIL_WIDTH, ''));
  if (out.length > 0) out.push('');
  out.push('iou-dispatch: how IORING_OP_BPF names its program, measured', '');
  out.push(...wrap(f.headline.join(' ')), '');
  out.push(...envLines(r));
  for (const lane of r.lanes) {
    out.push(
      '',
      `== ${lane.lane} lane: ${lane.status}${lane.reason === null ? '' : `: ${lane.reason}`}`,
    );
    for (const note of lane.notes) out.push(...wrap(`note: ${note}`, MAIL_WIDTH, '  '));
    if (lane.status === 'ok') out.push(...(SECTIONS[lane.lane]?.(lane) ?? []));
  }
  out.push(...crossCheckSection(r));
  out.push(
    '',
    ...wrap(
      `Full report with charts, methodology and raw per-round values: ${htmlName} (self-contained).`,
    ),
  );
  return `${out
    .map((l) => l.replaceAll('\t', ' '))
    .flatMap((l) => (l.length <= MAIL_WIDTH ? [l] : wrap(l, MAIL_WIDTH)))
    .join('\n')}\n`;
}
