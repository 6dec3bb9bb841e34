// Charts for the HTML report: Chart.js drawn on @napi-rs/canvas in Node and
// encoded as PNG, so the report needs no script and no network. Reads
// results only. If the canvas cannot load, the report says so instead.
// Values with an interval are dots with their 95 % interval (bar length
// means nothing on a log axis); ratios carry a dashed 1.0 line; every axis
// ticks in human units (ns/µs/ms, KiB/MiB, 1.5x). Each chart names the
// lane whose tables it sits beside.

import type { ChartConfiguration, ChartItem } from 'chart.js';
import type { LaneResult, Results } from '../bench/results.js';
import type { Summary } from '../bench/stats.js';
import { MEMORY_RINGS } from './findings.js';
import { kernelGrid } from './kernel-view.js';
import { nativeView, sharedOverOwn } from './native-view.js';
import { PATCHED_BASELINE, patchedGrid } from './patched-view.js';
import { registrationView } from './registration-view.js';
import { type SharingCurve, sharingCurves } from './sharing-view.js';

export interface ChartImage {
  readonly title: string;
  /** What the chart shows, for the img alt text and the caption. */
  readonly caption: string;
  /** The lane whose tables the chart sits beside. */
  readonly lane: string;
  readonly width: number;
  readonly height: number;
  readonly png: Buffer;
}

const WIDTH = 640;
const HEIGHT = 360;
const PALETTE = [
  '#4472c4',
  '#ed7d31',
  '#70ad47',
  '#7f3fbf',
  '#c00000',
  '#5b9bd5',
  '#264478',
  '#9e480e',
  '#636363',
  '#997300',
  '#255e91',
];

/** The part of a 2D context the plugins use. */
interface Ctx {
  save(): void;
  restore(): void;
  fillStyle: unknown;
  strokeStyle: unknown;
  lineWidth: number;
  fillRect(x: number, y: number, w: number, h: number): void;
  setLineDash(d: number[]): void;
  beginPath(): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  stroke(): void;
}

interface Scale {
  getPixelForValue(v: number): number;
  top: number;
  bottom: number;
}

/** The part of a Chart the plugins use. */
interface DrawnChart {
  ctx: Ctx;
  width: number;
  height: number;
  scales: Record<string, Scale>;
  data: { datasets: { borderColor?: unknown; data: unknown[] }[] };
  getDatasetMeta(i: number): { hidden: boolean | null; data: { x: number; y: number }[] };
}

/** A chart before drawing: what tests check (data, axes, reference line) without a canvas. */
export type ChartSpec = {
  title: string;
  caption: string;
  lane: string;
  height?: number;
  /** The dashed reference line of a dot-and-interval chart (1 for ratios); null for none. */
  ref?: number | null;
  config: ChartConfiguration;
  plugins?: object[];
};
type Spec = ChartSpec;

function lane(r: Results, name: string): LaneResult | undefined {
  return r.lanes.find((l) => l.lane === name && l.status === 'ok');
}

// Human units for axis ticks: every axis says what a tick is in its own words.

/** "68 ns", "1.2 µs", "15 ms", "2 s". */
export function nsTick(ns: number): string {
  const [v, unit] =
    ns >= 1e9
      ? [ns / 1e9, 's']
      : ns >= 1e6
        ? [ns / 1e6, 'ms']
        : ns >= 1e3
          ? [ns / 1e3, 'µs']
          : [ns, 'ns'];
  return `${Number(v.toPrecision(3))} ${unit}`;
}

/** "512 B", "4 KiB", "7.5 MiB". */
export function bytesTick(n: number): string {
  const [v, unit] =
    n >= 2 ** 30
      ? [n / 2 ** 30, 'GiB']
      : n >= 2 ** 20
        ? [n / 2 ** 20, 'MiB']
        : n >= 1024
          ? [n / 1024, 'KiB']
          : [n, 'B'];
  return `${Number(v.toPrecision(3))} ${unit}`;
}

/** "1.25x". */
export function ratioTick(x: number): string {
  return Number.isInteger(x) ? `${x.toFixed(1)}x` : `${Number(x.toPrecision(3))}x`;
}

/** "1,024" for counts (rings, programs, batch sizes). */
function countTick(n: number): string {
  return n.toLocaleString('en-US');
}

/** Log-axis ticks at 1, 2, 5 times a power of ten, more of them the shorter the range, within [lo, hi]. */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  const span = hi / lo;
  const steps =
    span < 4
      ? [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8]
      : span < 30
        ? [1, 1.5, 2, 3, 5, 7]
        : [1, 2, 5];
  for (let e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)); e++) {
    for (const s of steps) {
      const v = Number((s * 10 ** e).toPrecision(6));
      if (v >= lo && v <= hi) ticks.push(v);
    }
  }
  return ticks;
}

type Unit = 'ns' | 'bytes' | 'ratio' | 'count';
const TICK: Record<Unit, (v: number) => string> = {
  ns: nsTick,
  bytes: bytesTick,
  ratio: ratioTick,
  count: countTick,
};

/** Log-axis ticks for bytes: powers of two (of four when the range is wide), so 1 KiB, 4 KiB, 16 KiB read as round numbers. */
export function bytesTicks(lo: number, hi: number): number[] {
  const step = hi / lo > 256 ? 2 : 1;
  const ticks: number[] = [];
  for (let e = Math.ceil(Math.log2(lo)); 2 ** e <= hi; e++) if (e % step === 0) ticks.push(2 ** e);
  return ticks;
}

/**
 * A logarithmic axis titled `title` with ticks in `unit`'s human form; at
 * `at` when given (the batch sizes or ring counts measured).
 */
function logAxis(title: string, unit: Unit, lo?: number, hi?: number, at?: readonly number[]) {
  return {
    type: 'logarithmic' as const,
    title: { display: true, text: title },
    ...(lo === undefined ? {} : { min: lo }),
    ...(hi === undefined ? {} : { max: hi }),
    afterBuildTicks: (axis: { min: number; max: number; ticks: { value: number }[] }) => {
      const values =
        at !== undefined
          ? at.filter((v) => v >= axis.min && v <= axis.max)
          : unit === 'bytes'
            ? bytesTicks(axis.min, axis.max)
            : logTicks(axis.min, axis.max);
      axis.ticks = values.map((value) => ({ value }));
    },
    ticks: { maxRotation: 0, callback: (v: number | string) => TICK[unit](Number(v)) },
  };
}

/** One value of a dot-and-interval chart: the median and its 95 % interval. */
interface Dot {
  readonly median: number;
  readonly lo: number;
  readonly hi: number;
}

const dotOf = (s: Summary | null | undefined): Dot | null =>
  s === null || s === undefined ? null : { median: s.median, lo: s.ci95[0], hi: s.ci95[1] };

/**
 * Draws each point's interval as a horizontal line with end caps (the
 * points carry lo and hi), and the reference line when there is one.
 */
function intervalPlugin(ref: number | null) {
  return {
    id: 'intervals',
    afterDatasetsDraw: (chart: DrawnChart) => {
      const { ctx } = chart;
      const x = chart.scales.x as Scale;
      const y = chart.scales.y as Scale;
      ctx.save();
      if (ref !== null) {
        const px = x.getPixelForValue(ref);
        ctx.strokeStyle = '#222222';
        ctx.lineWidth = 1.5;
        ctx.setLineDash([5, 4]);
        ctx.beginPath();
        ctx.moveTo(px, y.top);
        ctx.lineTo(px, y.bottom);
        ctx.stroke();
        ctx.setLineDash([]);
      }
      chart.data.datasets.forEach((ds, i) => {
        const meta = chart.getDatasetMeta(i);
        if (meta.hidden === true) return;
        ctx.strokeStyle = ds.borderColor;
        ctx.lineWidth = 2;
        ds.data.forEach((raw, j) => {
          const p = raw as { lo?: number; hi?: number };
          const el = meta.data[j];
          if (el === undefined || p.lo === undefined || p.hi === undefined) return;
          const [a, b] = [x.getPixelForValue(p.lo), x.getPixelForValue(p.hi)];
          ctx.beginPath();
          ctx.moveTo(a, el.y);
          ctx.lineTo(b, el.y);
          ctx.moveTo(a, el.y - 4);
          ctx.lineTo(a, el.y + 4);
          ctx.moveTo(b, el.y - 4);
          ctx.lineTo(b, el.y + 4);
          ctx.stroke();
        });
      });
      ctx.restore();
    },
  };
}

/**
 * A dot-and-interval chart: one row per label, one dot per series (offset
 * a little so intervals do not overlap), each with its 95 % interval, on a
 * log axis in `unit`; `ref` draws a dashed reference line (1.0 for ratios).
 */
function dotChart(o: {
  title: string;
  caption: string;
  lane: string;
  rows: readonly string[];
  series: readonly { label: string; dots: readonly (Dot | null)[] }[];
  axis: string;
  unit: Unit;
  ref: number | null;
}): Spec | null {
  const all = o.series.flatMap((s) => s.dots.filter((d): d is Dot => d !== null));
  if (all.length === 0) return null;
  const lo = Math.min(
    ...all.map((d) => Math.min(d.lo, d.median)),
    o.ref ?? Number.POSITIVE_INFINITY,
  );
  const hi = Math.max(...all.map((d) => Math.max(d.hi, d.median)), o.ref ?? 0);
  const n = o.series.length;
  const offset = (i: number) => (n === 1 ? 0 : (i / (n - 1) - 0.5) * 0.5);
  return {
    title: o.title,
    caption: o.caption,
    lane: o.lane,
    height: Math.max(200, 110 + o.rows.length * (18 + 10 * n)),
    ref: o.ref,
    plugins: [intervalPlugin(o.ref)],
    config: {
      type: 'scatter',
      data: {
        datasets: o.series.map((s, i) => ({
          label: s.label,
          data: s.dots.flatMap((d, row) =>
            d === null ? [] : [{ x: d.median, y: row + offset(i), lo: d.lo, hi: d.hi }],
          ),
          borderColor: PALETTE[i % PALETTE.length],
          backgroundColor: PALETTE[i % PALETTE.length],
          pointRadius: 4,
        })),
      },
      options: {
        scales: {
          x: logAxis(o.axis, o.unit, lo / 1.25, hi * 1.25),
          y: {
            type: 'linear',
            reverse: true,
            min: -0.6,
            max: o.rows.length - 0.4,
            grid: { display: false },
            afterBuildTicks: (axis: { ticks: { value: number }[] }) => {
              axis.ticks = o.rows.map((_, value) => ({ value }));
            },
            ticks: { autoSkip: false, callback: (v: number | string) => o.rows[Number(v)] ?? '' },
          },
        },
      },
    } as ChartConfiguration,
  };
}

function kernelByBatch(r: Results): Spec | null {
  const { cells, batches, threads, standins, at } = kernelGrid(lane(r, 'kernel'));
  if (cells.length === 0) return null;
  const t = threads[0] as number;
  return {
    title: `Kernel stand-ins: ns/request by batch size (${t} thread)`,
    caption: `Median ns/request over the rounds for each stand-in at batch ${batches.join(', ')}, ${t} thread, log scales.`,
    lane: 'kernel',
    config: {
      type: 'line',
      data: {
        datasets: standins.map((s, i) => ({
          label: s,
          data: batches.map((b) => ({
            x: b,
            y: at(s, b, t)?.summary.median ?? Number.NaN,
          })),
          borderColor: PALETTE[i % PALETTE.length],
          backgroundColor: PALETTE[i % PALETTE.length],
        })),
      },
      options: {
        scales: {
          x: logAxis('batch size (requests per submit)', 'count', undefined, undefined, batches),
          y: logAxis('time per request', 'ns'),
        },
      },
    },
  };
}

const plural = (t: number) => `${t} thread${t > 1 ? 's' : ''}`;

function kernelVsNop(r: Results): Spec | null {
  const grid = kernelGrid(lane(r, 'kernel'));
  const { threads, at } = grid;
  // Plain NOP is the baseline itself: it has no ratio to draw.
  const standins = grid.standins.filter((s) =>
    grid.cells.some((m) => m.labels.standin === s && m.vsBaseline !== null),
  );
  const b = grid.batches.at(-1) as number;
  return dotChart({
    title: `Kernel stand-ins relative to plain NOP (batch ${b})`,
    caption: `Median of the per-round ratios to plain NOP at batch ${b} (the same column as the tables' "x NOP"), with its 95 % interval, per thread count; the dashed line at 1.0x is the cost of a NOP.`,
    lane: 'kernel',
    rows: standins,
    series: threads.map((t) => ({
      label: plural(t),
      dots: standins.map((s) => dotOf(at(s, b, t)?.vsBaseline?.ratio)),
    })),
    axis: 'x plain NOP (median of per-round ratios)',
    unit: 'ratio',
    ref: 1,
  });
}

function bpfVsNone(r: Results): Spec | null {
  const l = lane(r, 'bpf-standin');
  if (l === undefined) return null;
  const sorted = (xs: Iterable<number>) => [...new Set(xs)].sort((a, b) => a - b);
  const b = sorted(l.metrics.map((m) => m.labels.batch as number)).at(-1);
  const threads = sorted(l.metrics.map((m) => m.labels.threads as number));
  const shapes = [
    ...new Set(l.metrics.filter((m) => m.vsBaseline !== null).map((m) => String(m.labels.shape))),
  ];
  const at = (s: string, t: number) =>
    l.metrics.find((m) => m.labels.shape === s && m.labels.batch === b && m.labels.threads === t);
  return dotChart({
    title: `BPF stand-ins relative to the same requests with no program (batch ${b})`,
    caption: `Median of the per-round ratios of each program shape to the same requests with no program attached, at batch ${b}, with its 95 % interval, per thread count; the dashed line at 1.0x is no program.`,
    lane: 'bpf-standin',
    rows: shapes,
    series: threads.map((t) => ({
      label: plural(t),
      dots: shapes.map((s) => dotOf(at(s, t)?.vsBaseline?.ratio)),
    })),
    axis: 'x no program (median of per-round ratios)',
    unit: 'ratio',
    ref: 1,
  });
}

function patchedVsNop(r: Results): Spec | null {
  const g = patchedGrid(lane(r, 'patched'));
  const variants = g.variants.filter((v) => v !== PATCHED_BASELINE);
  return dotChart({
    title: `IORING_OP_BPF relative to plain NOP (batch ${g.largest})`,
    caption: `Median of the per-round ratios to IORING_OP_NOP on the same ring at batch ${g.largest}, with its 95 % interval; the dashed line at 1.0x is a NOP.`,
    lane: 'patched',
    rows: variants,
    series: g.threads.map((t) => ({
      label: plural(t),
      dots: variants.map((v) => dotOf(g.xnop(v, t))),
    })),
    axis: 'x plain NOP (median of per-round ratios)',
    unit: 'ratio',
    ref: 1,
  });
}

function memoryDots(r: Results): Spec | null {
  const m = lane(r, 'memory');
  if (m === undefined) return null;
  const designs = [...new Set(m.metrics.map((x) => String(x.labels.design)))];
  const get = (d: string, sharing: string): Dot | null => {
    const v = m.metrics.find(
      (x) =>
        x.labels.design === d &&
        x.labels.rings === MEMORY_RINGS &&
        x.labels.programs === 16 &&
        x.labels.sharing === sharing,
    )?.summary.median;
    // Counted, not sampled: no interval; 0 bytes has no place on a log axis.
    return v === undefined || v <= 0 ? null : { median: v, lo: v, hi: v };
  };
  return dotChart({
    title: `Memory added at ${MEMORY_RINGS} rings x 16 programs`,
    caption:
      'Bytes each design adds (counted, not sampled: no interval), every ring using the same 16 programs or each ring its own; a missing dot does not fit or adds nothing.',
    lane: 'memory',
    rows: designs,
    series: [
      { label: 'shared by every ring', dots: designs.map((d) => get(d, 'shared')) },
      { label: 'each ring its own', dots: designs.map((d) => get(d, 'per-ring')) },
    ],
    axis: 'bytes added',
    unit: 'bytes',
    ref: null,
  });
}

function modelLines(r: Results): Spec | null {
  const m = lane(r, 'model');
  if (m === undefined || m.metrics.length === 0) return null;
  const designs = [...new Set(m.metrics.map((x) => String(x.labels.design)))];
  return {
    title: 'TypeScript models: time per modelled request by programs registered',
    caption:
      "The executable specification, not the kernel: how each model's lookup scales with the number of programs (median over rounds).",
    lane: 'model',
    config: {
      type: 'line',
      data: {
        datasets: designs.map((d, i) => ({
          label: d,
          data: m.metrics
            .filter((x) => x.labels.design === d)
            .map((x) => ({ x: x.labels.programs as number, y: x.summary.median })),
          borderColor: PALETTE[i % PALETTE.length],
          backgroundColor: PALETTE[i % PALETTE.length],
        })),
      },
      options: {
        scales: {
          x: logAxis(
            'programs registered',
            'count',
            undefined,
            undefined,
            m.metrics.map((x) => x.labels.programs as number),
          ),
          y: logAxis('time per modelled request', 'ns'),
        },
      },
    },
  };
}

function nativeSharing(r: Results): Spec | null {
  const v = nativeView(lane(r, 'native'));
  const t = Math.max(...v.threads);
  if (v.designs.length === 0 || t < 2) return null;
  const at = (d: string, sharing: string, threads: number) =>
    dotOf(v.at(d, 'pure', sharing, 1, v.batch, threads)?.summary);
  const series = [
    { label: '1 thread', sharing: 'shared', threads: 1 },
    { label: `${t} threads, same programs`, sharing: 'shared', threads: t },
    { label: `${t} threads, each its own`, sharing: 'own', threads: t },
  ];
  return dotChart({
    title: `C designs: time per request at batch ${v.batch} (pure loop)`,
    caption: `Median ns/request over the rounds, with its 95 % interval, of each C design's path (pure loop, batch ${v.batch}); core is the C io_uring core with no lookup. A dot that moves right only with the same programs on every ring is a per-request write to a shared object.`,
    lane: 'native',
    rows: v.designs,
    series: series.map((s) => ({
      label: s.label,
      dots: v.designs.map((d) => at(d, s.sharing, s.threads)),
    })),
    axis: 'time per request (median over rounds)',
    unit: 'ns',
    ref: null,
  });
}

function nativeSameOverOwn(r: Results): Spec | null {
  const v = nativeView(lane(r, 'native'));
  const t = Math.max(...v.threads);
  if (v.designs.length === 0 || t < 2) return null;
  return dotChart({
    title: `C designs: ${t} rings on the same programs relative to each its own`,
    caption: `Median of the per-round ratios of same programs to own programs (the tables' "same / own" column), pure loop, batch ${v.batch}, ${t} threads, with its 95 % interval; the dashed line at 1.0x is no cost for sharing.`,
    lane: 'native',
    rows: v.designs,
    series: [
      {
        label: `${t} threads`,
        dots: v.designs.map((d) =>
          dotOf(
            sharedOverOwn(
              v.at(d, 'pure', 'shared', 1, v.batch, t),
              v.at(d, 'pure', 'own', 1, v.batch, t),
            ),
          ),
        ),
      },
    ],
    axis: 'same / own (median of per-round ratios)',
    unit: 'ratio',
    ref: 1,
  });
}

/** The contention curve of one lane: same/own per pair (rows) at each thread count (series), with intervals. */
function sharingCurveChart(which: SharingCurve['lane']): (r: Results) => Spec | null {
  return (r) => {
    const curves = sharingCurves(r).filter((c) => c.lane === which);
    const threads = [...new Set(curves.flatMap((c) => c.points.map((p) => p.threads)))].sort(
      (a, b) => a - b,
    );
    if (!threads.some((t) => t > 1)) return null;
    const what =
      which === 'kernel'
        ? 'the <x>-same stand-in over <x>-own'
        : which === 'native'
          ? "each C design's pure loop with shared programs over own"
          : 'the hash shape (one key every ring reads) over per-ring (a key per ring; the keys differ too, so read the change with N)';
    return dotChart({
      title: `Sharing curve (${which} lane): same over own at each thread count`,
      caption: `Median of per-round ratios with its 95 % interval of ${what}, batch ${curves[0]?.batch ?? '?'}, for N threads (one ring each); a ratio that grows with N is contention on the shared object. The dashed line at 1.0x is no cost for sharing.`,
      lane: which,
      rows: curves.map((c) => c.pair),
      series: threads.map((t) => ({
        label: `${t} thread${t > 1 ? 's' : ''}`,
        dots: curves.map((c) => dotOf(c.points.find((p) => p.threads === t)?.ratio)),
      })),
      axis: 'same / own (median of per-round ratios)',
      unit: 'ratio',
      ref: 1,
    });
  };
}

function registrationLines(r: Results): Spec | null {
  const v = registrationView(lane(r, 'registration'));
  if (v.designs.length === 0) return null;
  const k = v.structOps;
  return {
    title: 'Registration: time to register one program for N rings (C designs)',
    caption: `Median time of the registration that lets N rings name one program, per C design, log scales${k === null ? '' : `; dashed: the real kernel's struct_ops ${k.type} attach (one call, not per ring)`}. C grace periods are not the kernel's.`,
    lane: 'registration',
    config: {
      type: 'line',
      data: {
        datasets: [
          ...v.designs.map((d, i) => ({
            label: d,
            data: v.rings.map((n) => ({
              x: n,
              y: v.at(d, n, 'register')?.summary.median ?? Number.NaN,
            })),
            borderColor: PALETTE[i % PALETTE.length],
            backgroundColor: PALETTE[i % PALETTE.length],
          })),
          ...(k === null
            ? []
            : [
                {
                  label: `struct_ops ${k.type} attach (kernel)`,
                  data: v.rings.map((n) => ({ x: n, y: k.attach.summary.median })),
                  borderColor: '#000000',
                  backgroundColor: '#000000',
                  borderDash: [6, 4],
                  pointRadius: 0,
                },
              ]),
        ],
      },
      options: {
        scales: {
          x: logAxis('rings', 'count', undefined, undefined, v.rings),
          y: logAxis('time to register', 'ns'),
        },
      },
    },
  };
}

const CHARTS = [
  kernelVsNop,
  kernelByBatch,
  nativeSameOverOwn,
  nativeSharing,
  bpfVsNone,
  patchedVsNop,
  registrationLines,
  memoryDots,
  modelLines,
  sharingCurveChart('kernel'),
  sharingCurveChart('bpf-standin'),
  sharingCurveChart('native'),
];

/** The specs of every chart the results have data for, in the order the report shows them. */
export function chartSpecs(r: Results): ChartSpec[] {
  return CHARTS.map((make) => make(r)).filter((s): s is ChartSpec => s !== null);
}

/** Renders every chart the results have data for; `error` says why none could be drawn. */
export async function renderCharts(
  r: Results,
): Promise<{ charts: ChartImage[]; error: string | null }> {
  let canvasMod: typeof import('@napi-rs/canvas');
  let chartMod: typeof import('chart.js');
  try {
    canvasMod = await import('@napi-rs/canvas');
    chartMod = await import('chart.js');
  } catch (e) {
    return { charts: [], error: `charts unavailable: ${(e as Error).message.split('\n')[0]}` };
  }
  const { Chart, registerables, BasicPlatform } = chartMod;
  Chart.register(...registerables);
  const charts: ChartImage[] = [];
  for (const spec of chartSpecs(r)) {
    const height = spec.height ?? HEIGHT;
    const canvas = canvasMod.createCanvas(WIDTH, height);
    const config = {
      ...spec.config,
      platform: BasicPlatform,
      options: {
        ...spec.config.options,
        animation: false as const,
        responsive: false,
        devicePixelRatio: 1,
        plugins: { title: { display: true, text: spec.title } },
      },
      plugins: [
        {
          id: 'white-background',
          beforeDraw: (chart: { ctx: Ctx; width: number; height: number }) => {
            chart.ctx.save();
            chart.ctx.fillStyle = '#ffffff';
            chart.ctx.fillRect(0, 0, chart.width, chart.height);
            chart.ctx.restore();
          },
        },
        ...(spec.plugins ?? []),
      ],
    } as ChartConfiguration;
    const chart = new Chart(canvas.getContext('2d') as unknown as ChartItem, config);
    charts.push({
      title: spec.title,
      caption: spec.caption,
      lane: spec.lane,
      width: WIDTH,
      height,
      png: await canvas.encode('png'),
    });
    chart.destroy();
  }
  return { charts, error: null };
}
