// The registration lane: what it costs to register one program so that N
// rings can name it, and to undo that, per C design, as N grows; plus one
// real-kernel figure, a struct_ops attach and detach on the stock kernel.
//
// C side (native/src/model/regbench.c): one design's world with N rings in
// one process and one loaded program. The registration is what each design
// really needs for all N rings: v1's designs one struct_ops attach whose
// ->reg() locks every flagged ring and waits in synchronize_srcu(); per-ctx
// one attach per ring; per-fd-fixed one fixed-file update per ring; per-fd
// nothing (the lane times the fd install of the program's fd, and close()).
// Each call is timed alone with clock_gettime; a round's value is the median
// of its repetitions; a fresh world per (round, N, design), rounds
// interleaved across designs and ring counts (DESIGN.md section 5). Before
// timing, each (design, N) is checked: after the registration a request on
// every ring runs the program, after the unregistration none does.
//
// Kernel side (native/src/struct_ops.c): tcp_congestion_ops through raw
// bpf(2), BPF_LINK_CREATE and BPF_LINK_DETACH + close, a few cycles per round.

import { readKernelBtf } from '../../lib/btf.js';
import { nativeDesigns } from '../../native/designs.js';
import { errnoLabel } from '../../native/index.js';
import { openTcpCa, STRUCT_OPS_STANDIN, type TcpCaOps, tcpCaBtf } from '../../native/struct-ops.js';
import { type Lane, LaneSkipped, metric } from '../lane.js';
import type { Json, Metric } from '../results.js';
import { median } from '../stats.js';

/** The ring counts the lane takes by default, and the most it takes (--rings). */
export const DEFAULT_RINGS = [1, 16, 256, 4096] as const;
export const MAX_RINGS = 65536;

export type RegistrationOp = 'register' | 'unregister';

export const registrationId = (design: string, rings: number, op: RegistrationOp) =>
  `registration/${design}/r${rings}/${op}`;

/** The kernel figure's ids: the stand-in type and attach or detach. */
export const structOpsId = (type: string, op: 'attach' | 'detach') =>
  `registration/struct-ops/${type}/${op}`;

/** Repetitions per round at `rings`: many where a cycle is short, at least 3. */
export function registrationReps(rings: number, quick: boolean): number {
  const budget = quick ? 1024 : 8192;
  return Math.max(3, Math.min(quick ? 50 : 400, Math.floor(budget / rings)));
}

/** struct_ops cycles per round: each detach waits for an RCU grace period (milliseconds). */
export const structOpsReps = (quick: boolean) => (quick ? 2 : 5);

/** What the C grace period is, against the kernel's: the lane says it with every run. */
export const GRACE_NOTE =
  "C grace period: v1's synchronize_srcu() here (native/src/kernel/srcu.c) flips the index and " +
  'spins until the per-slot lock and unlock counts agree; with no reader inside it returns in ' +
  "well under a microsecond. The kernel's synchronize_srcu() (kernel/rcu/srcutree.c) runs a grace " +
  'period through workqueues: expedited when the domain looks idle (srcu_might_be_idle()), ' +
  'otherwise with jiffy-based delays, so tens of microseconds to milliseconds. The C figures are ' +
  "the locking and table work, not the kernel's grace period; the struct_ops line shows a real one.";

export const PER_FD_NOTE =
  'per-fd: no registration exists (the program fd is the name); the lane times the fd install a ' +
  'process does on receiving the program fd (a dup), and close() as the unregistration.';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export const registrationLane: Lane = {
  name: 'registration',
  title: 'Registration: register and unregister one program as the ring count grows',
  async run(ctx) {
    const native = nativeDesigns();
    if (!native.ok) throw new LaneSkipped(native.reason);
    const o = ctx.options;
    const known = new Set(native.addon.designDefs().map((d) => d.name));
    const notes: string[] = [];
    const missing = o.designs.filter((d) => !known.has(d.name));
    if (missing.length > 0)
      notes.push(
        `no C design for ${missing.map((d) => d.name).join(', ')}: left out (native/src/designs/registry.c)`,
      );
    const designs = o.designs.filter((d) => known.has(d.name)).map((d) => d.name);
    const rings = [...o.rings];
    const kernel = openKernel();
    if (!kernel.ok) notes.push(`struct_ops attach/detach not measured: ${kernel.reason}`);
    const kreps = structOpsReps(o.quick);
    const total = o.rounds * (rings.length * designs.length + (kernel.ok ? 1 : 0));
    let done = 0;

    const values = new Map<string, { reg: number[]; unreg: number[] }>();
    const calls: Record<string, Record<string, number>> = {};
    const failed = new Set<string>();
    const kvalues = { attach: [] as number[], detach: [] as number[] };
    let kernelFailure: string | null = null;
    const key = (design: string, n: number) => `${design}\u0000${n}`;

    try {
      for (let round = 0; round < o.rounds; round++) {
        for (const n of rings) {
          for (const design of designs) {
            const k = key(design, n);
            if (!failed.has(k)) {
              const r = timeOne(native.addon, design, n, registrationReps(n, o.quick), round === 0);
              if (!r.ok) {
                failed.add(k);
                notes.push(`${design} with ${n} rings: ${r.reason}`);
              } else {
                const v = values.get(k) ?? { reg: [], unreg: [] };
                v.reg.push(r.reg);
                v.unreg.push(r.unreg);
                values.set(k, v);
                calls[design] = { ...(calls[design] ?? {}), [String(n)]: r.calls };
              }
            }
            ctx.progress(++done, total);
            await tick();
          }
        }
        if (kernel.ok && kernelFailure === null) {
          const t = kernel.ops.time(kreps);
          if (t.errno !== 0) {
            kernelFailure = t.error ?? errnoLabel(t.errno);
            notes.push(`struct_ops attach/detach failed in round ${round + 1}: ${kernelFailure}`);
          } else {
            kvalues.attach.push(median(t.attachNs));
            kvalues.detach.push(median(t.detachNs));
          }
          ctx.progress(++done, total);
          await tick();
        }
      }
    } finally {
      if (kernel.ok) kernel.ops.close();
    }

    const metrics: Metric[] = [];
    for (const design of designs)
      for (const n of rings) {
        const v = values.get(key(design, n));
        if (v === undefined || v.reg.length === 0) continue;
        const labels = { design, rings: n, calls: calls[design]?.[String(n)] ?? 0 };
        for (const [op, vals] of [
          ['register', v.reg],
          ['unregister', v.unreg],
        ] as const)
          metrics.push(
            metric(
              {
                id: registrationId(design, n, op),
                lane: 'registration',
                labels: { ...labels, op },
                unit: 'ns',
                better: 'lower',
              },
              vals,
            ),
          );
      }
    if (kernel.ok && kvalues.attach.length > 0)
      for (const op of ['attach', 'detach'] as const)
        metrics.push(
          metric(
            {
              id: structOpsId(STRUCT_OPS_STANDIN.type, op),
              lane: 'registration',
              labels: { design: 'struct-ops', type: STRUCT_OPS_STANDIN.type, op },
              unit: 'ns',
              better: 'lower',
            },
            kvalues[op],
          ),
        );
    notes.push(GRACE_NOTE);
    if (designs.includes('per-fd')) notes.push(PER_FD_NOTE);
    notes.push(
      'A round is one fresh world per design and ring count; its value is the median of that ' +
        'round\'s repetitions, each call timed alone; "register" is every call the registration ' +
        'needs (calls label: 1, or one per ring), "unregister" the detach and close of each link ' +
        '(or the fixed-slot update, or the close).',
    );
    if (kernel.ok)
      notes.push(
        `struct_ops: ${STRUCT_OPS_STANDIN.type} stood in (${STRUCT_OPS_STANDIN.why}); ` +
          `attach is BPF_LINK_CREATE, detach is ${kernel.ops.info().linkDetach ? 'BPF_LINK_DETACH + close' : 'close of the link (BPF_LINK_DETACH refused)'}.`,
      );
    const details: Json = {
      rings,
      reps: Object.fromEntries(rings.map((n) => [String(n), registrationReps(n, o.quick)])),
      calls,
      perRing: perRingSlopes(metrics),
      structOps: kernel.ok
        ? {
            type: STRUCT_OPS_STANDIN.type,
            why: STRUCT_OPS_STANDIN.why,
            name: kernel.ops.info().name,
            linkDetach: kernel.ops.info().linkDetach,
            repsPerRound: kreps,
            failure: kernelFailure,
          }
        : { type: STRUCT_OPS_STANDIN.type, skipped: kernel.reason },
    };
    return { metrics, notes, details };
  },
};

type Addon = Extract<ReturnType<typeof nativeDesigns>, { ok: true }>['addon'];

/**
 * One round's cell: a fresh world, on the first round the check that the
 * registration takes effect on every ring and its undoing on none, then
 * `reps` timed cycles; the medians of the register and unregister times.
 */
function timeOne(
  addon: Addon,
  design: string,
  rings: number,
  reps: number,
  check: boolean,
): { ok: true; reg: number; unreg: number; calls: number } | { ok: false; reason: string } {
  let bench: InstanceType<Addon['RegBench']>;
  try {
    bench = new addon.RegBench(design, rings);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  try {
    if (check) {
      const problem = checkEffect(bench, rings);
      if (problem !== null) return { ok: false, reason: problem };
    }
    const t = bench.time(reps);
    if (t.error !== 0) return { ok: false, reason: `timing failed: ${errnoLabel(t.error)}` };
    return {
      ok: true,
      reg: median(t.registerNs),
      unreg: median(t.unregisterNs),
      calls: bench.calls(),
    };
  } finally {
    bench.destroy();
  }
}

/** Null when a request on every ring runs the program after the registration and on none after the unregistration. */
export function checkEffect(
  bench: { register(): number; unregister(): number; probe(): number },
  rings: number,
): string | null {
  const reg = bench.register();
  if (reg !== 0) return `register failed: ${errnoLabel(reg)}`;
  const ran = bench.probe();
  if (ran !== rings) return `after register, ${ran} of ${rings} rings ran the program`;
  const unreg = bench.unregister();
  if (unreg !== 0) return `unregister failed: ${errnoLabel(unreg)}`;
  const after = bench.probe();
  if (after !== 0) return `after unregister, ${after} of ${rings} rings still ran the program`;
  return null;
}

function openKernel(): { ok: true; ops: TcpCaOps } | { ok: false; reason: string } {
  const btf = readKernelBtf();
  if (!btf.ok) return { ok: false, reason: `no kernel BTF: ${btf.reason}` };
  const facts = tcpCaBtf(btf.btf);
  if (!facts.ok) return facts;
  const opened = openTcpCa(facts.btf);
  if (!opened.ok) return opened;
  // One attach and detach, checked in the kernel's own list of congestion controls.
  const ops = opened.ops;
  const a = ops.attach();
  const listed = a.errno === 0 ? ops.listed() : 0;
  const d = a.errno === 0 ? ops.detach() : a;
  const gone = d.errno === 0 ? ops.listed() : 1;
  if (a.errno !== 0 || d.errno !== 0 || listed !== 1 || gone !== 0) {
    ops.close();
    const why =
      a.errno !== 0 || d.errno !== 0
        ? ((a.errno !== 0 ? a.error : d.error) ?? errnoLabel(a.errno || d.errno))
        : `the name was ${listed === 1 ? '' : 'not '}listed after attach and ${gone === 0 ? 'not ' : ''}after detach`;
    return { ok: false, reason: why };
  }
  return { ok: true, ops };
}

/**
 * Per design and op: the added cost per ring between the smallest and the
 * largest ring count measured (median over median), in ns per ring.
 */
function perRingSlopes(metrics: readonly Metric[]): Json {
  const out: Record<string, Record<string, number>> = {};
  const byDesign = new Map<string, Metric[]>();
  for (const m of metrics) {
    if (m.labels.design === 'struct-ops') continue;
    const k = `${m.labels.design}\u0000${m.labels.op}`;
    byDesign.set(k, [...(byDesign.get(k) ?? []), m]);
  }
  for (const [k, ms] of byDesign) {
    if (ms.length < 2) continue;
    const sorted = [...ms].sort((a, b) => Number(a.labels.rings) - Number(b.labels.rings));
    const lo = sorted[0] as Metric;
    const hi = sorted[sorted.length - 1] as Metric;
    const [design, op] = k.split('\u0000') as [string, string];
    const slope =
      (hi.summary.median - lo.summary.median) / (Number(hi.labels.rings) - Number(lo.labels.rings));
    out[design] = { ...(out[design] ?? {}), [op]: slope };
  }
  return out;
}
