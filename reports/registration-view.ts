// The registration lane's metrics as a grid: designs by ring count, register
// and unregister, plus the real struct_ops attach/detach. Shared by the text
// and HTML reports and the chart. Reads results only.

import type { LaneResult, Metric } from '../bench/results.js';

export interface RegistrationView {
  readonly designs: readonly string[];
  readonly rings: readonly number[];
  readonly rounds: number;
  at(design: string, rings: number, op: 'register' | 'unregister'): Metric | undefined;
  /** Syscalls one registration made: 1, or one per ring. */
  calls(design: string): 'one' | 'per ring' | null;
  /** The struct_ops stand-in: its type and its attach/detach metrics, or null when not measured. */
  readonly structOps: { type: string; attach: Metric; detach: Metric } | null;
}

export function registrationView(lane: LaneResult | undefined): RegistrationView {
  const metrics = lane?.metrics ?? [];
  const c = metrics.filter((m) => m.labels.design !== 'struct-ops');
  const designs = [...new Set(c.map((m) => String(m.labels.design)))];
  const rings = [...new Set(c.map((m) => Number(m.labels.rings)))].sort((a, b) => a - b);
  const k = metrics.filter((m) => m.labels.design === 'struct-ops');
  const attach = k.find((m) => m.labels.op === 'attach');
  const detach = k.find((m) => m.labels.op === 'detach');
  return {
    designs,
    rings,
    rounds: metrics[0]?.summary.n ?? 0,
    at: (d, n, op) =>
      c.find((m) => m.labels.design === d && m.labels.rings === n && m.labels.op === op),
    calls: (d) => {
      const ms = c.filter((m) => m.labels.design === d && Number(m.labels.rings) > 1);
      if (ms.length === 0) return null;
      return ms.every((m) => m.labels.calls === m.labels.rings) ? 'per ring' : 'one';
    },
    structOps:
      attach !== undefined && detach !== undefined
        ? { type: String(attach.labels.type), attach, detach }
        : null,
  };
}

/** "1.23 µs", "456 µs", "12.3 ms": a duration in ns at three significant digits. */
export function duration(ns: number): string {
  const [v, unit] = ns >= 1e6 ? [ns / 1e6, 'ms'] : ns >= 1e3 ? [ns / 1e3, 'µs'] : [ns, 'ns'];
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${unit}`;
}
