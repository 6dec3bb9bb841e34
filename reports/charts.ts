// Charts for the HTML report: Chart.js drawn on @napi-rs/canvas in Node and
// encoded as PNG, so the report needs no script and no network. Reads
// results only. If the canvas cannot load, the report says so instead.

import type { ChartConfiguration, ChartItem } from 'chart.js';
import type { LaneResult, Results } from '../bench/results.js';
import { MEMORY_RINGS } from './findings.js';
import { kernelGrid } from './kernel-view.js';
import { nativeView } from './native-view.js';
import { registrationView } from './registration-view.js';

export interface ChartImage {
  readonly title: string;
  /** What the chart shows, for the img alt text and the caption. */
  readonly caption: string;
  readonly png: Buffer;
}

const WIDTH = 820;
const HEIGHT = 420;
const PALETTE = [
  '#4472c4',
  '#ed7d31',
  '#a5a5a5',
  '#ffc000',
  '#5b9bd5',
  '#70ad47',
  '#264478',
  '#9e480e',
  '#636363',
  '#997300',
  '#255e91',
];

/** The part of a 2D context the background plugin uses. */
interface Fill {
  save(): void;
  restore(): void;
  fillStyle: unknown;
  fillRect(x: number, y: number, w: number, h: number): void;
}

type Spec = { title: string; caption: string; config: ChartConfiguration };

function lane(r: Results, name: string): LaneResult | undefined {
  return r.lanes.find((l) => l.lane === name && l.status === 'ok');
}

function logAxis(title: string) {
  return { type: 'logarithmic' as const, title: { display: true, text: title } };
}

function kernelByBatch(r: Results): Spec | null {
  const { cells, batches, threads, standins, at } = kernelGrid(lane(r, 'kernel'));
  if (cells.length === 0) return null;
  const t = threads[0] as number;
  return {
    title: `Kernel stand-ins: ns/request by batch size (${t} thread)`,
    caption: `Median ns/request over the rounds for each stand-in at batch ${batches.join(', ')}, ${t} thread, log scales.`,
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
      options: { scales: { x: logAxis('batch size'), y: logAxis('ns/request') } },
    },
  };
}

function kernelVsNop(r: Results): Spec | null {
  const grid = kernelGrid(lane(r, 'kernel'));
  const { threads, at } = grid;
  // Plain NOP is the baseline itself: it has no ratio to draw.
  const standins = grid.standins.filter((s) =>
    grid.cells.some((m) => m.labels.standin === s && m.vsBaseline !== null),
  );
  if (standins.length === 0) return null;
  const b = grid.batches.at(-1) as number;
  return {
    title: `Kernel stand-ins relative to plain NOP (batch ${b})`,
    caption: `Median of the per-round ratio to plain NOP at batch ${b}, per thread count; 1.0 is the cost of a NOP.`,
    config: {
      type: 'bar',
      data: {
        labels: standins,
        datasets: threads.map((t, i) => ({
          label: `${t} thread${t > 1 ? 's' : ''}`,
          data: standins.map((s) => at(s, b, t)?.vsBaseline?.ratio.median ?? Number.NaN),
          backgroundColor: PALETTE[i % PALETTE.length],
        })),
      },
      options: { scales: { y: logAxis('x plain NOP') } },
    },
  };
}

function memoryBars(r: Results): Spec | null {
  const m = lane(r, 'memory');
  if (m === undefined) return null;
  const designs = [...new Set(m.metrics.map((x) => String(x.labels.design)))];
  const get = (d: string, sharing: string) =>
    m.metrics.find(
      (x) =>
        x.labels.design === d &&
        x.labels.rings === MEMORY_RINGS &&
        x.labels.programs === 16 &&
        x.labels.sharing === sharing,
    )?.summary.median ?? Number.NaN;
  return {
    title: `Memory added at ${MEMORY_RINGS} rings x 16 programs`,
    caption:
      'Bytes each design adds, every ring using the same 16 programs or each ring its own; a missing bar does not fit.',
    config: {
      type: 'bar',
      data: {
        labels: designs,
        datasets: [
          {
            label: 'shared by every ring',
            data: designs.map((d) => get(d, 'shared')),
            backgroundColor: PALETTE[0],
          },
          {
            label: 'each ring its own',
            data: designs.map((d) => get(d, 'per-ring')),
            backgroundColor: PALETTE[1],
          },
        ],
      },
      options: { scales: { y: logAxis('bytes') } },
    },
  };
}

function modelLines(r: Results): Spec | null {
  const m = lane(r, 'model');
  if (m === undefined || m.metrics.length === 0) return null;
  const designs = [...new Set(m.metrics.map((x) => String(x.labels.design)))];
  return {
    title: 'TypeScript models: ns per modelled request by programs registered',
    caption:
      "The executable specification, not the kernel: how each model's lookup scales with the number of programs.",
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
          x: logAxis('programs registered'),
          y: { title: { display: true, text: 'ns/op' } },
        },
      },
    },
  };
}

function nativeSharing(r: Results): Spec | null {
  const v = nativeView(lane(r, 'native'));
  const t = Math.max(...v.threads);
  if (v.designs.length === 0 || t < 2) return null;
  const median = (d: string, sharing: string, threads: number) =>
    v.at(d, 'pure', sharing, 1, v.batch, threads)?.summary.median ?? null;
  const bars = [
    { label: '1 thread', sharing: 'shared', threads: 1 },
    { label: `${t} threads, same programs`, sharing: 'shared', threads: t },
    { label: `${t} threads, each its own`, sharing: 'own', threads: t },
  ];
  return {
    title: `C designs: ns/request at batch ${v.batch}, programs shared by every ring or not`,
    caption: `Median ns/request of each C design's path (pure loop, batch ${v.batch}); core is the C io_uring core with no lookup. A bar that grows only with the same programs on every ring is a per-request write to a shared object.`,
    config: {
      type: 'bar',
      data: {
        labels: [...v.designs],
        datasets: bars.map((b, i) => ({
          label: b.label,
          data: v.designs.map((d) => median(d, b.sharing, b.threads)),
          backgroundColor: PALETTE[i],
        })),
      },
      options: { scales: { y: { title: { display: true, text: 'ns/request' } } } },
    },
  };
}

function registrationLines(r: Results): Spec | null {
  const v = registrationView(lane(r, 'registration'));
  if (v.designs.length === 0) return null;
  const k = v.structOps;
  return {
    title: 'Registration: µs to register one program for N rings (C designs)',
    caption: `Median µs of the registration that lets N rings name one program, per C design, log scales${k === null ? '' : `; dashed: the real kernel's struct_ops ${k.type} attach (one call, not per ring)`}. C grace periods are not the kernel's.`,
    config: {
      type: 'line',
      data: {
        datasets: [
          ...v.designs.map((d, i) => ({
            label: d,
            data: v.rings.map((n) => ({
              x: n,
              y: (v.at(d, n, 'register')?.summary.median ?? Number.NaN) / 1000,
            })),
            borderColor: PALETTE[i % PALETTE.length],
            backgroundColor: PALETTE[i % PALETTE.length],
          })),
          ...(k === null
            ? []
            : [
                {
                  label: `struct_ops ${k.type} attach (kernel)`,
                  data: v.rings.map((n) => ({ x: n, y: k.attach.summary.median / 1000 })),
                  borderColor: '#000000',
                  backgroundColor: '#000000',
                  borderDash: [6, 4],
                  pointRadius: 0,
                },
              ]),
        ],
      },
      options: { scales: { x: logAxis('rings'), y: logAxis('µs') } },
    },
  };
}

const CHARTS = [
  kernelByBatch,
  kernelVsNop,
  nativeSharing,
  registrationLines,
  memoryBars,
  modelLines,
];

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
  for (const make of CHARTS) {
    const spec = make(r);
    if (spec === null) continue;
    const canvas = canvasMod.createCanvas(WIDTH, HEIGHT);
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
          beforeDraw: (chart: { ctx: Fill; width: number; height: number }) => {
            chart.ctx.save();
            chart.ctx.fillStyle = '#ffffff';
            chart.ctx.fillRect(0, 0, chart.width, chart.height);
            chart.ctx.restore();
          },
        },
      ],
    } as ChartConfiguration;
    const chart = new Chart(canvas.getContext('2d') as unknown as ChartItem, config);
    charts.push({ title: spec.title, caption: spec.caption, png: await canvas.encode('png') });
    chart.destroy();
  }
  return { charts, error: null };
}
