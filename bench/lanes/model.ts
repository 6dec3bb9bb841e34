// The model lane: the TypeScript models' hot path, one inline request
// (prep, issue, completion) through each design, with 1, 16, 256, 4096 and
// 65535 programs registered where the design can hold that many, timed
// with tinybench in interleaved rounds. It measures the executable
// specification, not the kernel: what it shows is how each design's lookup
// scales in the model (xarray depth, table sizes), not absolute costs.

import { Bench } from 'tinybench';
import type { DesignDef, Registration } from '../../designs/design.js';
import type { Result } from '../../designs/kernel/errno.js';
import { Machine } from '../../designs/machine.js';
import { programSpec } from '../../designs/world.js';
import { type Lane, metric } from '../lane.js';
import type { Metric } from '../results.js';

export const TABLE_SIZES = [1, 16, 256, 4096, 65535] as const;

/** How many programs the design can name at once (ids or slots), or Infinity for fds. */
export function capacity(design: DesignDef): number {
  return design.idRange === null
    ? Number.POSITIVE_INFINITY
    : design.idRange.max - design.idRange.min + 1;
}

function unwrap<T>(what: string, r: Result<T>): T {
  if (!r.ok) throw new Error(`model lane setup: ${what} failed with ${r.errno}`);
  return r.value;
}

/** A machine with `size` programs registered on one ring, and the op that submits one request to the last. */
export function hotPath(design: DesignDef, size: number): () => void {
  const m = new Machine(design);
  m.world.trace.recording = false;
  m.world.retainRequests = false;
  const proc = m.world.createProcess({ name: 'bench', fdLimit: 4 * size + 16 });
  const ringFd = unwrap(
    'ring setup',
    m.runDirect(proc, m.uring.setup(proc, { bpf: design.setupFlag !== null })),
  );
  let last: Registration | null = null;
  for (let i = 0; i < size; i++) {
    const progFd = unwrap(
      'load',
      m.runDirect(proc, m.world.loadProgram(proc, programSpec(`p${i}`))),
    );
    const args =
      design.idRange === null ? { progFd, ringFd } : { progFd, ringFd, id: design.idRange.min + i };
    last = unwrap('register', m.runDirect(proc, m.ops.register(proc, args)));
  }
  if (last === null) throw new Error('model lane setup: no program registered');
  const sqe = m.sqe(last.name, 1);
  const ring = m.world.rings[0];
  if (ring === undefined) throw new Error('model lane setup: no ring');
  return () => {
    m.runDirect(proc, m.uring.submit(proc, ringFd, sqe));
    if (ring.cq.length !== 1 || ring.cq[0]?.res !== 0)
      throw new Error(`${design.name}: request did not complete with 0`);
    ring.cq.length = 0;
  };
}

export const modelLane: Lane = {
  name: 'model',
  title: 'TypeScript models: one inline request, by registered-program count',
  async run(ctx) {
    const o = ctx.options;
    const tasks: { id: string; design: DesignDef; size: number; fn: () => void }[] = [];
    const notes: string[] = [];
    const cells = o.designs.flatMap((d) =>
      TABLE_SIZES.filter((n) => n <= capacity(d)).map((n) => [d, n] as const),
    );
    const total = cells.length + cells.length * o.rounds;
    let done = 0;
    for (const [design, size] of cells) {
      tasks.push({ id: `model/${design.name}/n${size}`, design, size, fn: hotPath(design, size) });
      ctx.progress(++done, total);
    }
    for (const d of o.designs) {
      const left = TABLE_SIZES.filter((n) => n > capacity(d));
      if (left.length > 0)
        notes.push(
          `${d.name}: holds at most ${capacity(d)} programs; sizes ${left.join(', ')} left out`,
        );
    }
    const values = new Map<string, number[]>(tasks.map((t) => [t.id, []]));
    for (let r = 0; r < o.rounds; r++) {
      for (const t of tasks) {
        // One Bench per task, so the event loop (Ctrl-C, progress) gets a turn between tasks.
        const bench = new Bench({
          time: o.durationMs,
          warmupTime: Math.min(o.durationMs, 20),
          iterations: 16,
          throws: true,
        });
        bench.add(t.id, t.fn);
        await bench.run();
        const result = bench.tasks[0]?.result;
        if (result?.state !== 'completed')
          throw new Error(`model lane: ${t.id} ${result?.state ?? 'did not run'}`);
        values.get(t.id)?.push(result.latency.p50 * 1e6);
        ctx.progress(++done, total);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    const metrics: Metric[] = tasks.map((t) =>
      metric(
        {
          id: t.id,
          lane: 'model',
          labels: { design: t.design.name, programs: t.size },
          unit: 'ns/op',
          better: 'lower',
        },
        values.get(t.id) ?? [],
      ),
    );
    return { metrics, notes, details: { tableSizes: [...TABLE_SIZES] } };
  },
};
