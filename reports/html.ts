// The HTML report: one self-contained file, readable with JavaScript off.
// The run's caveats as a banner, a table of contents, headline findings
// first, then per-lane tables each with its charts beside it (PNG data
// URIs), the cross-check, methodology, the raw per-round values and, last
// and collapsed, the environment. Every string that comes from results or
// the environment is escaped. Reads results only.

import type { LaneResult, Metric, Results } from '../bench/results.js';
import type { Summary } from '../bench/stats.js';
import type { FuzzReport } from '../fuzz/matrix.js';
import { bpfTables } from './bpf-view.js';
import { runCaveats } from './caveats.js';
import type { ChartImage } from './charts.js';
import { environmentGroups, environmentOf, runCommit } from './environment-view.js';
import { bytes, findings, pct, type StandinRow } from './findings.js';
import { fuzzHtml } from './fuzz.js';
import { kernelGrid } from './kernel-view.js';
import { crossCheck, nativeTable, nativeView } from './native-view.js';
import { PATCHED_BASELINE, patchedGrid } from './patched-view.js';
import { duration, registrationView } from './registration-view.js';

/** Escapes text for HTML element content and attribute values. */
export function esc(value: unknown): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = `
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 110em; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
th { background: #f4f4f4; }
.status-ok { color: #1a7f37; } .status-skipped { color: #9a6700; } .status-failed, .status-interrupted { color: #cf222e; }
.incomplete { background: #ffebe9; border: 1px solid #cf222e; padding: 0.6em; }
.caveat { background: #fff8c5; border: 2px solid #9a6700; padding: 0.6em; font-weight: bold; }
figure { margin: 0.8em 0; max-width: 100%; } figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 0.88em; color: #555; max-width: 640px; }
.pair { display: flex; flex-wrap: wrap; gap: 0 2em; align-items: flex-start; }
.pair > .tables { flex: 1 1 40em; min-width: 0; overflow-x: auto; } .pair > .figures { flex: 0 1 642px; }
nav.toc { background: #f6f8fa; border: 1px solid #ddd; padding: 0.4em 1em; display: inline-block; }
nav.toc ul { margin: 0.2em 0; padding-left: 1.2em; } nav.toc li { margin: 0.1em 0; }
details.environment > summary { cursor: pointer; font-weight: bold; }
td.fz-ok, span.fz-ok { background: #dafbe1; color: #1a7f37; } td.fz-fail, span.fz-fail { background: #ffebe9; color: #cf222e; font-weight: bold; }
td.fz-na, span.fz-na { background: #f0f0f0; color: #777; } table.fuzz-matrix td { text-align: center; }
table.fuzz-matrix td:first-child { text-align: left; } .legend span { padding: 0.1em 0.5em; margin: 0 0.3em 0 1em; border: 1px solid #ddd; }
.legend span:first-child { margin-left: 0; }
code, .mono { font-family: ui-monospace, monospace; font-size: 0.92em; }
.note { color: #555; }
ul.headline li { margin: 0.3em 0; }
table.env td, table.env th { text-align: left; } table.env td:last-child { overflow-wrap: anywhere; }
table.swimlane td, table.swimlane th { text-align: left; font-family: ui-monospace, monospace; font-size: 0.85em; }
table.swimlane tr.violation td { background: #ffebe9; }
`;

function table(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  className = '',
): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  const cls = className === '' ? '' : ` class="${className}"`;
  return `<table${cls}><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function num(x: number): string {
  return x >= 1000 ? x.toFixed(0) : x.toFixed(1);
}

/** Median with its 95 % interval and n, escaped. */
function cell(m: Metric | undefined): string {
  if (m === undefined) return '';
  const s = m.summary;
  return `${esc(num(s.median))} <span class="note">[${esc(num(s.ci95[0]))}..${esc(num(s.ci95[1]))}]</span>`;
}

/** "1.46x [1.21..1.62]": a median of per-round ratios with its 95 % interval, escaped. */
function ratioCell(s: Summary): string {
  return `${esc(s.median.toFixed(2))}x <span class="note">[${esc(s.ci95[0].toFixed(2))}..${esc(s.ci95[1].toFixed(2))}]</span>`;
}

/** "+9.9% [-2.0..+21.3%]": the same ratio as a signed percentage, escaped. */
function pctCell(s: Summary): string {
  return `${esc(pct(s.median))} <span class="note">[${esc(pct(s.ci95[0]))}..${esc(pct(s.ci95[1]))}]</span>`;
}

/** The designs that share a stand-in, when findings carry the table (i15-text's standinTable). */
function standinSection(rows: readonly StandinRow[] | undefined): string {
  if (rows === undefined || rows.length === 0) return '';
  return `<h3>What stands in for each design on this kernel</h3>
<p class="note">Designs measured through the very same stand-ins have one result between them, not two.</p>
${table(
  ['design', 'kernel stand-ins', 'BPF shapes', 'shares its stand-ins with'],
  rows.map((x) => [
    esc(x.design),
    esc(x.standins.join(', ') || '-'),
    esc(x.shapes.join(', ') || '-'),
    esc(x.sharesWith.join(', ') || '-'),
  ]),
)}`;
}

function findingsSection(r: Results): string {
  const f = findings(r);
  const batch = f.nop?.batch;
  const rows = f.designs.map((d) => [
    `<b>${esc(d.design)}</b><br><span class="note">${esc(d.title)}</span>`,
    d.costs
      .map((c) => `${esc(c.standin)}: ${c.vsNop === null ? '-' : ratioCell(c.vsNop)}`)
      .join('<br>') || '-',
    d.sharing.map((s) => `${esc(s.same)} vs ${esc(s.own)}: ${pctCell(s.ratio)}`).join('<br>') ||
      '-',
    d.nativeSharing === null ? '-' : pctCell(d.nativeSharing.ratio),
    esc(typeof d.memoryShared === 'number' ? bytes(d.memoryShared) : (d.memoryShared ?? '-')),
    esc(typeof d.memoryOwn === 'number' ? bytes(d.memoryOwn) : (d.memoryOwn ?? '-')),
    esc(d.safety),
  ]);
  const at = batch === undefined ? '' : ` at batch ${batch}, ${f.nop?.threads} thread`;
  const shareT = f.designs.flatMap((d) => d.sharing)[0]?.threads;
  const nativeT = f.designs.find((d) => d.nativeSharing !== null)?.nativeSharing?.threads;
  const threads = (t: number | undefined) => (t === undefined ? '' : `, ${t} threads`);
  return `<section id="findings"><h2>Headline findings</h2>
<ul class="headline">
${f.headline.map((h) => `<li>${esc(h)}</li>`).join('\n')}
</ul>
${standinSection(f.standins)}
${table(
  [
    'design',
    `cost over plain NOP${at}: median of per-round ratios [95 % interval] (stand-ins)`,
    `one file shared across rings vs each its own${threads(shareT)}: median of per-round ratios as % [95 % interval]`,
    `C design: rings on the same programs vs their own${threads(nativeT)}: median of per-round ratios as % [95 % interval]`,
    'memory, 100 rings sharing 16 programs (counted)',
    'memory, 100 rings with 16 each (counted)',
    'safety properties violated (fuzz lane)',
  ],
  rows,
)}
</section>`;
}

/** The environment, last and collapsed: a one-line summary that opens onto every field, grouped. */
function environmentSection(r: Results): string {
  const e = environmentOf(r);
  const git = runCommit(r);
  const summary = [
    `kernel ${e.kernel?.release ?? 'unknown'}`,
    e.cpuId?.modelName ?? e.cpu?.model ?? 'unknown CPU',
    `commit ${git === null ? 'unknown' : `${git.commit}${git.dirty ? ' (dirty tree)' : ''}`}`,
  ].join(', ');
  return `<section id="environment"><h2>Environment</h2>
<details class="environment"><summary>${esc(summary)} (every field)</summary>
${environmentGroups(r)
  .map(
    (g) => `<h4>${esc(g.title)}</h4>
${table(
  ['what', 'value'],
  g.rows.map(([k, v]) => [
    `<span class="mono">${esc(k)}</span>`,
    `<span class="mono">${esc(v)}</span>`,
  ]),
  'env',
)}`,
  )
  .join('\n')}
</details></section>`;
}

function kernelTables(lane: LaneResult): string {
  const { batches, threads, standins, at: cellAt } = kernelGrid(lane);
  return threads
    .map((t) => {
      const rows = standins.map((s) => {
        const at = (b: number) => cellAt(s, b, t);
        const ratio = at(batches.at(-1) ?? 0)?.vsBaseline?.ratio;
        const designs = String(at(batches[0] ?? 0)?.labels.designs ?? '');
        return [
          `${esc(s)}<br><span class="note">${esc(designs)}</span>`,
          ...batches.map((b) => cell(at(b))),
          ratio === undefined
            ? ''
            : `${esc(ratio.median.toFixed(2))}x <span class="note">[${esc(ratio.ci95[0].toFixed(2))}..${esc(ratio.ci95[1].toFixed(2))}]</span>`,
        ];
      });
      return `<h4>ns/request, ${t} thread${t > 1 ? 's' : ''} (median [95 % interval])</h4>
${table(['stand-in', ...batches.map((b) => `batch ${b}`), `x NOP at batch ${batches.at(-1)}: median of per-round ratios [95 % interval]`], rows)}`;
    })
    .join('\n');
}

function modelTable(lane: LaneResult): string {
  const sizes = [...new Set(lane.metrics.map((m) => m.labels.programs as number))].sort(
    (a, b) => a - b,
  );
  const designs = [...new Set(lane.metrics.map((m) => String(m.labels.design)))];
  const rows = designs.map((d) => [
    esc(d),
    ...sizes.map((n) =>
      cell(lane.metrics.find((m) => m.labels.design === d && m.labels.programs === n)),
    ),
  ]);
  return `<h4>ns per modelled request, by programs registered (median [95 % interval])</h4>
${table(['design', ...sizes.map((n) => `${n}`)], rows)}`;
}

function nativeTables(lane: LaneResult): string {
  const v = nativeView(lane);
  const { head, rows } = nativeTable(v, cell, {
    pure: 'pure, 1 thread',
    same: 'pure, N threads, same programs',
    own: 'pure, N threads, own programs',
    ratio: 'same / own: median of per-round ratios',
    iowq: 'io-wq, 1 thread',
    ring: 'ring loop, 1 thread',
  });
  const escaped = rows.map(([d, ...r]) => [esc(d), ...r]);
  const scaled = v.designs.filter((d) =>
    v.sizes.some((p) => p > 1 && v.at(d, 'pure', 'shared', p, v.batch, 1) !== undefined),
  );
  const scaleRows = scaled.map((d) => [
    esc(d),
    ...v.sizes.map((p) => cell(v.at(d, 'pure', 'shared', p, v.batch, 1))),
  ]);
  return `<h4>ns/request of the C designs at batch ${esc(v.batch)} (median [95 % interval])</h4>
<p class="note">pure: the design's prep, issue, completion and cleanup alone, a batch under one uring_lock; io-wq: the same
with IOSQE_ASYNC, issued without uring_lock (v1's designs read their table under SRCU there); ring loop: the
same inside a real io_uring loop that submits the batch as NOPs (ring-only:
${cell(v.at('ring-only', 'ring-only', 'shared', 1, v.batch, 1))}); core: the C io_uring core with no lookup at all. Same
programs: every ring names the same loaded programs; own: each ring its own.</p>
${table(head, escaped)}
<h4>ns/request by programs registered (pure loop, batch ${esc(v.batch)}, 1 thread)</h4>
${table(['design', ...v.sizes.map((p) => `${p}`)], scaleRows)}`;
}

/** A duration with its 95 % interval, escaped. */
function durationCell(m: Metric | undefined): string {
  if (m === undefined) return '-';
  const s = m.summary;
  return `${esc(duration(s.median))} <span class="note">[${esc(duration(s.ci95[0]))}..${esc(duration(s.ci95[1]))}]</span>`;
}

function registrationTables(lane: LaneResult): string {
  const v = registrationView(lane);
  const rows = v.designs.flatMap((d) =>
    (['register', 'unregister'] as const).map((op) => [
      `${esc(d)} <span class="note">${esc(op)}${op === 'register' && v.calls(d) !== null ? `, ${esc(v.calls(d))} call${v.calls(d) === 'one' ? '' : 's'}` : ''}</span>`,
      ...v.rings.map((n) => durationCell(v.at(d, n, op))),
    ]),
  );
  const k = v.structOps;
  return `<h4>Registration: time until N rings can name one program, and to undo it (median [95 % interval] of ${esc(v.rounds)} rounds)</h4>
<p class="note">C designs: the registration each design needs for every ring (v1's designs: one attach that locks every
ring and waits in a C synchronize_srcu(); per-ctx: one attach per ring; per-fd-fixed: one fixed-file update per ring;
per-fd: nothing to register, the fd install and close). The C grace period is not the kernel's: see the notes above.</p>
${table(['design', ...v.rings.map((n) => `${n} ring${n > 1 ? 's' : ''}`)], rows)}
${
  k === null
    ? ''
    : `<h4>Real kernel: struct_ops ${esc(k.type)} through a link</h4>
<p class="note">The stand-in for a struct_ops registration on a stock kernel: ->reg() adds to a global list keyed by
name, ->unreg() removes it and waits in synchronize_rcu() (a real grace period).</p>
${table(['struct_ops', 'attach (BPF_LINK_CREATE)', 'detach (BPF_LINK_DETACH + close)'], [[esc(k.type), durationCell(k.attach), durationCell(k.detach)]])}`
}`;
}

function bpfTablesHtml(lane: LaneResult): string {
  return bpfTables(lane, cell)
    .map(
      (
        t,
      ) => `<h4>ns/request, ${esc(t.threads)} thread${t.threads > 1 ? 's' : ''}: a BPF program on the request's tracepoint finds its callee and tail-calls it (median [95 % interval]; +ns: what the program adds over the same requests with no program, median of per-round differences)</h4>
${table(
  t.head,
  t.rows.map(([s, d, ...r]) => [esc(s), esc(d), ...r]),
)}`,
    )
    .join('\n');
}

function patchedTables(lane: LaneResult): string {
  const g = patchedGrid(lane);
  const ratioCell = (v: string, t: number) => {
    if (v === PATCHED_BASELINE) return '';
    const r = g.xnop(v, t);
    if (r === undefined) return '-';
    return `${esc(r.median.toFixed(2))}x <span class="note">[${esc(r.ci95[0].toFixed(2))}..${esc(r.ci95[1].toFixed(2))}]</span>`;
  };
  return g.threads
    .map((t) => {
      const rows = g.variants.map((v) => [
        esc(v),
        ...g.batches.map((b) => cell(g.at(v, b, t))),
        ratioCell(v, t),
      ]);
      return `<h4>ns/request, ${esc(t)} thread${t > 1 ? 's' : ''} (median [95 % interval] of ${esc(g.rounds)} rounds; x NOP: IORING_OP_BPF over plain IORING_OP_NOP on the same ring at batch ${esc(g.largest)}, median [95 % interval] of per-round ratios)</h4>
${table(['variant', ...g.batches.map((b) => `batch ${b}`), `x NOP at batch ${g.largest}`], rows)}`;
    })
    .join('\n');
}

function patchedDetails(lane: LaneResult): string {
  const d = lane.details as { probes?: { what: string; result: string }[] } | null;
  if (!d?.probes) return '';
  return `<h4>What the lane probed</h4>
${table(
  ['probe', 'result'],
  d.probes.map((p) => [esc(p.what), esc(p.result)]),
)}`;
}

function crossCheckSection(r: Results): string {
  const rows = crossCheck(r);
  const first = rows[0];
  if (first === undefined) return '';
  const fmt = (x: { median: number } | null) => (x === null ? '-' : esc(num(x.median)));
  const body = rows.map((x) => [
    esc(x.design),
    esc(x.standin ?? '-'),
    ...first.cells.map((c) => {
      const y = x.cells.find((z) => z.threads === c.threads && z.sharing === c.sharing);
      return y === undefined ? '' : `${fmt(y.native)} / ${fmt(y.kernel)}`;
    }),
  ]);
  return `<section id="cross-check"><h2>Cross-check: native model against the kernel</h2>
<p>ns/request each design adds at batch ${esc(first.batch)}, as native / kernel. Native: the C design minus the C io_uring
core, both inside a real NOP submission loop. Kernel: the design's stand-in minus plain NOP in the kernel lane. Both are
medians of per-round differences. Where they agree, the C model costs what the kernel primitive costs; where they do not,
the difference is the model's own overhead (function-pointer calls, the program callbacks) or what the stand-in adds
(a creds reference for the personality stand-ins). For global-array the stand-in is NOP itself, so the kernel adds 0 by
construction.</p>
${table(['design', 'kernel stand-in', ...first.cells.map((c) => `${c.threads} thread${c.threads > 1 ? `s, ${c.sharing} programs` : ''}`)], body)}
</section>`;
}

function memoryTable(lane: LaneResult): string {
  const details = lane.details as {
    breakdowns?: { id: string; doesNotFit: string | null }[];
    btf?: string;
  } | null;
  const designs = [...new Set(lane.metrics.map((m) => String(m.labels.design)))];
  const rings = [...new Set(lane.metrics.map((m) => m.labels.rings as number))].sort(
    (a, b) => a - b,
  );
  const parts = [];
  for (const sharing of ['shared', 'per-ring']) {
    const rows = designs.map((d) => [
      esc(d),
      ...rings.map((n) => {
        const id = `memory/${d}/r${n}/p16/${sharing}`;
        const m = lane.metrics.find((x) => x.id === id);
        if (m !== undefined) return esc(bytes(m.summary.median));
        return esc(details?.breakdowns?.find((b) => b.id === id)?.doesNotFit ?? '-');
      }),
    ]);
    parts.push(`<h4>bytes with 16 programs, ${sharing === 'shared' ? 'shared by every ring' : 'each ring its own'}</h4>
${table(['design', ...rings.map((n) => `${n} ring${n > 1 ? 's' : ''}`)], rows)}`);
  }
  return parts.join('\n');
}

const LANE_TABLES: Record<string, (lane: LaneResult) => string> = {
  kernel: kernelTables,
  native: nativeTables,
  registration: registrationTables,
  'bpf-standin': bpfTablesHtml,
  patched: patchedTables,
  model: modelTable,
  memory: memoryTable,
  fuzz: (lane) => fuzzHtml(lane.details as unknown as FuzzReport),
};

/** The anchor of a lane's heading. */
const laneAnchor = (lane: string) => `lane-${lane.replace(/[^A-Za-z0-9-]/g, '-')}`;

function figure(c: ChartImage): string {
  return `<figure><img src="data:image/png;base64,${c.png.toString('base64')}" alt="${esc(c.caption)}" width="${esc(c.width)}" height="${esc(c.height)}"><figcaption>${esc(c.caption)}</figcaption></figure>`;
}

/** Every lane: its status and notes, then its tables with its charts beside them (below on a narrow window). */
function lanesSection(
  r: Results,
  charts: readonly ChartImage[],
  chartError: string | null,
): string {
  const parts = r.lanes.map((l) => {
    const notes = l.notes.map((n) => `<li>${esc(n)}</li>`).join('');
    const tables = `${l.status === 'ok' ? (LANE_TABLES[l.lane]?.(l) ?? '') : ''}
${l.lane === 'patched' ? patchedDetails(l) : ''}`;
    const figures = charts.filter((c) => c.lane === l.lane).map(figure);
    return `<h3 id="${laneAnchor(l.lane)}">${esc(l.lane)} lane: <span class="status-${esc(l.status)}">${esc(l.status)}</span>${l.reason === null ? '' : ` (${esc(l.reason)})`}, ${esc((l.durationMs / 1000).toFixed(1))} s</h3>
${notes === '' ? '' : `<ul class="note">${notes}</ul>`}
${figures.length === 0 ? tables : `<div class="pair"><div class="tables">${tables}</div><div class="figures">\n${figures.join('\n')}\n</div></div>`}`;
  });
  return `<section id="lanes"><h2>Lanes</h2>
${chartError === null ? '' : `<p class="note">${esc(chartError)}</p>`}
${parts.join('\n')}\n</section>`;
}

/** The table of contents: every section, and every lane under "Lanes". */
function toc(r: Results, crossCheck: boolean): string {
  const item = (id: string, text: string, sub = '') =>
    `<li><a href="#${id}">${esc(text)}</a>${sub}</li>`;
  const lanes = r.lanes.map((l) => item(laneAnchor(l.lane), `${l.lane} (${l.status})`)).join('');
  return `<nav class="toc" aria-label="Contents"><b>Contents</b><ul>
${item('findings', 'Headline findings')}
${item('lanes', 'Lanes', `<ul>${lanes}</ul>`)}
${crossCheck ? item('cross-check', 'Cross-check: native model against the kernel') : ''}
${item('methodology', 'Methodology')}
${item('raw', 'Raw per-round values')}
${item('environment', 'Environment')}
</ul></nav>`;
}

const METHODOLOGY = `<section id="methodology"><h2>Methodology</h2>
<p>The kernel lane runs real io_uring on this kernel. A stock kernel has no IORING_OP_BPF, so each design's per-request
lookup is measured through a NOP that exercises the same primitive: plain NOP for the global array (dispatch through
io_issue_defs[]), NOP_FILE on a plain fd for per-fd (fget/fput), NOP_FILE|NOP_FIXED_FILE for the per-ring tables and
fixed files, and a personality id at xarray depth 1 to 3 for the xarray designs (which also takes a creds reference, so
it over-estimates). Rings are set up with SINGLE_ISSUER, COOP_TASKRUN and DEFER_TASKRUN when the kernel accepts them,
one per thread and stand-in.</p>
<p>Time is taken in C around whole samples of many batches, never around one request. Every stand-in, batch and thread
count runs once per round and rounds repeat, so drift on a shared machine hits every variant alike; ratios to plain NOP
are taken per round. Each value is the median over rounds with its 95 % percentile-bootstrap interval (seeded, 2000
resamples); the raw per-round values are below. A change between runs is called only when a Mann-Whitney U test finds
it significant and it is larger than the noise band.</p>
<p>The native lane runs every design written in C (native/src/designs/): pthread mutexes for uring_lock, C11 atomics
for file and program references, an SRCU whose read side is a per-slot counter increment with a full barrier, and a
64-slot xarray. Each request goes through the design's prep, issue, completion and cleanup, a batch under one uring_lock
as io_submit_sqes() takes it, either alone or in a loop that also submits the batch to a real ring. Threads each have
their own ring and either all name the same programs or each their own. It is timed in interleaved rounds like the
kernel lane, against the C core with no lookup (pure loop) and the real ring alone (ring loop).</p>
<p>The bpf-standin lane attaches real BPF programs (BTF-typed tracepoint programs, tp_btf, loaded with bpf(2): the request's fields are plain loads) to io_uring_submit_req and
io_uring_file_get; each finds a program the way a design would (array by op id, hash for ids of 256 and up, a per-ring
hash, a tail call with a variable key, a table by the request's fd) and tail-calls it. Each sample attaches one shape and
detaches it after; shapes and the same requests with no program are interleaved in rounds. The patched lane runs only
when probing finds IORING_OP_BPF (opcode 65, the version's setup flag, the uring_bpf_ops BTF type) and otherwise lists
what it probed.</p>
<p>The registration lane builds, per C design and ring count, a world with N rings in one process and one
program, checks that after the registration a request on every ring runs the program and after the unregistration
none does, then times each registration and unregistration alone with clock_gettime; a round's value is the median of
its repetitions, and rounds interleave designs and ring counts. The C locks are real pthread mutexes, but the C
synchronize_srcu() only waits for readers of its own counters: the kernel's grace period is longer. The real-kernel
line attaches and detaches a tcp_congestion_ops struct_ops map through a link (raw bpf(2)).</p>
<p>The model lane times one inline request through each TypeScript model with tinybench: it shows how the executable
specification scales with the number of registered programs, not what the kernel costs. The memory lane counts the
bytes each design adds, with struct sizes from this kernel's BTF where it has the struct.</p>
</section>`;

function rawSection(r: Results): string {
  const rows = r.lanes.flatMap((l) =>
    l.metrics.map((m) => [
      `<span class="mono">${esc(m.id)}</span>`,
      esc(m.unit),
      esc(m.summary.n),
      `<span class="mono">${m.values.map((v) => esc(num(v))).join(' ')}</span>`,
    ]),
  );
  return `<section id="raw"><h2>Raw per-round values</h2>
<details><summary>${esc(rows.length)} metrics</summary>
${table(['metric', 'unit', 'n', 'values in round order'], rows)}
</details></section>`;
}

/** The HTML report of `results`, with `charts` embedded. */
export function htmlReport(
  r: Results,
  charts: readonly ChartImage[],
  chartError: string | null,
): string {
  const caveats = runCaveats(r)
    .map((c) => `<p class="caveat">Caveat: ${esc(c)}</p>\n`)
    .join('');
  const banner = r.complete
    ? ''
    : `<p class="incomplete">This run is incomplete: ${esc(r.incompleteReason)}</p>`;
  const cross = crossCheckSection(r);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>iou-dispatch report</title>
<style>${STYLE}</style>
</head>
<body>
<h1>iou-dispatch: how IORING_OP_BPF names its program, measured</h1>
${caveats}${banner}
${toc(r, cross !== '')}
${findingsSection(r)}
${lanesSection(r, charts, chartError)}
${cross}
${METHODOLOGY}
${rawSection(r)}
${environmentSection(r)}
</body>
</html>
`;
}
