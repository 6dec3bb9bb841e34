// The TypeScript models (the spec) against the C designs (native/src/designs):
// fast-check generates sequential command sequences (load, setup, register,
// unregister, submit, close, pass an fd, discover); every design runs each
// sequence on a TS Machine and on a C NativeWorld, and after every command
// the two must agree on the command's result, the CQEs it posted, the
// callbacks it ran (in order), every program's refs/freed/call counts, both
// processes' fd tables and the violation counters.
//
// Commands name fds and registrations by index (modulo what is open or
// registered, resolved against the TS state, which the C state has been
// checked equal to), so most of them are meaningful; a few use values that
// are never valid (fd 99, ids past the design's range, op ids >= 16).
//
// Exit is never generated: with a parked request it waits forever.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import type { DesignDef, ProgramName, RegisterArgs, Registration } from '../../designs/design.js';
import { ERRNO, type Result } from '../../designs/kernel/errno.js';
import { FIRST_FREE_FD } from '../../designs/kernel/fd-table.js';
import type { Op } from '../../designs/kernel/step.js';
import type { TraceEvent } from '../../designs/kernel/trace.js';
import { Machine } from '../../designs/machine.js';
import { perCtx } from '../../designs/per-ctx.js';
import { DESIGNS } from '../../designs/registry.js';
import { type Process, programSpec, type Ring, type Sqe } from '../../designs/world.js';
import {
  type DesignsAddon,
  type NativeProgramSpec,
  type NativeRegistration,
  type NativeSqe,
  type NativeWorld,
  nativeDesigns,
} from '../../native/designs.js';

const RUNS = 100;
const SEED = 0x1ab;

type FdKind = 'bpf-prog' | 'bpf-link' | 'io_uring';

/** An open fd of the process (the `pick`-th of that kind, modulo how many), or a raw number. */
type FdRef = { readonly pick: number; readonly kind: FdKind | null } | { readonly raw: number };

/** A registration made earlier (by index, modulo how many), or a raw name. */
type NameRef = { readonly reg: number } | { readonly raw: number; readonly fixed: boolean };

type Command =
  | { readonly op: 'load'; readonly proc: number; readonly spec: NativeProgramSpec }
  /** flip: create the ring without the design's setup flag (or with one it does not have). */
  | { readonly op: 'setup'; readonly proc: number; readonly flip: boolean }
  | {
      readonly op: 'register';
      readonly proc: number;
      readonly prog: FdRef;
      readonly ring: FdRef | null;
      readonly id: number | null;
    }
  | { readonly op: 'unregister'; readonly proc: number; readonly reg: number }
  | {
      readonly op: 'submit';
      readonly proc: number;
      readonly ring: FdRef;
      readonly sqes: readonly { readonly name: NameRef; readonly async: boolean }[];
    }
  | { readonly op: 'close'; readonly proc: number; readonly fd: FdRef }
  | { readonly op: 'passFd'; readonly from: number; readonly fd: FdRef; readonly to: number }
  | { readonly op: 'discover'; readonly proc: number };

// ---- generators ----

/** Command sequences for `design`: a preamble that sets both processes up, then anything. */
function sequenceArb(design: DesignDef): fc.Arbitrary<Command[]> {
  const proc = fc.integer({ min: 0, max: 1 });
  const fd = (kind: FdKind | null): fc.Arbitrary<FdRef> =>
    fc.oneof(
      { weight: 12, arbitrary: fc.nat(7).map((pick) => ({ pick, kind })) },
      { weight: 1, arbitrary: fc.constantFrom(0, 99).map((raw) => ({ raw })) },
    );
  // Closing or passing a link or a program is what retires registrations.
  const anyFd = fc.oneof(fd(null), fd('bpf-link'), fd('bpf-prog'));
  const max = design.idRange?.max ?? 63;
  // Small ids collide; the rest are the edges of the range and values past it, on both sides
  // (-1 is also IORING_FILE_INDEX_ALLOC for a fixed-file slot).
  const id = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: 3 }) },
    { weight: 2, arbitrary: fc.constantFrom(-2, -1, max, max + 1, 99, 256, 300, 65535, 70000) },
  );
  const rawName =
    design.nameKind === 'id'
      ? id
      : fc.oneof(
          { weight: 4, arbitrary: fc.integer({ min: 0, max: 8 }) },
          { weight: 1, arbitrary: fc.constantFrom(63, 64, 99) },
        );
  const name: fc.Arbitrary<NameRef> = fc.oneof(
    { weight: 4, arbitrary: fc.nat(7).map((reg) => ({ reg })) },
    { weight: 1, arbitrary: fc.record({ raw: rawName, fixed: fc.boolean() }) },
  );
  const spec: fc.Arbitrary<NativeProgramSpec> = fc.record({
    prep: fc.oneof(
      { weight: 1, arbitrary: fc.constant(null) },
      { weight: 8, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.constant(-ERRNO.EINVAL) },
      { weight: 1, arbitrary: fc.integer({ min: -9, max: -1 }) },
    ),
    issue: fc.option(
      fc.record({
        res: fc.integer({ min: -3, max: 99 }),
        // IOU_COMPLETE, IOU_ISSUE_SKIP_COMPLETE, -EAGAIN (punt inline, final on io-wq), an error.
        ret: fc.constantFrom(0, 0, 0, -ERRNO.EIOCBQUEUED, -ERRNO.EAGAIN, -ERRNO.ECANCELED),
      }),
      { nil: null, freq: 8 },
    ),
    fail: fc.constantFrom(true, true, true, false),
    cleanup: fc.constantFrom(true, true, true, false),
  });
  const load = (p: fc.Arbitrary<number>) =>
    fc.record({ op: fc.constant('load' as const), proc: p, spec });
  const setup = (p: fc.Arbitrary<number>) =>
    fc.record({
      op: fc.constant('setup' as const),
      proc: p,
      flip: fc.constantFrom(false, false, false, true),
    });
  const register = (p: fc.Arbitrary<number>) =>
    fc.record({
      op: fc.constant('register' as const),
      proc: p,
      prog: fd('bpf-prog'),
      ring: fc.option(fd('io_uring'), { nil: null, freq: 6 }),
      id: fc.option(id, { nil: null, freq: 4 }),
    });
  const command: fc.Arbitrary<Command> = fc.oneof(
    { weight: 3, arbitrary: load(proc) },
    { weight: 2, arbitrary: setup(proc) },
    { weight: 4, arbitrary: register(proc) },
    {
      weight: 2,
      arbitrary: fc.record({ op: fc.constant('unregister' as const), proc, reg: fc.nat(7) }),
    },
    {
      weight: 5,
      arbitrary: fc.record({
        op: fc.constant('submit' as const),
        proc,
        ring: fd('io_uring'),
        sqes: fc.array(fc.record({ name, async: fc.boolean() }), { minLength: 1, maxLength: 4 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ op: fc.constant('close' as const), proc, fd: anyFd }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('passFd' as const),
        from: proc,
        fd: anyFd,
        to: proc,
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('discover' as const), proc }) },
  );
  // Both processes start with a ring, programs and a registration each, so that
  // the commands after it mostly find something to act on.
  const [p0, p1] = [fc.constant(0), fc.constant(1)];
  const preamble: fc.Arbitrary<Command[]> = fc.tuple(
    setup(p0),
    setup(p1),
    load(p0),
    load(p0),
    load(p1),
    register(p0),
    register(p1),
  );
  return fc
    .tuple(preamble, fc.array(command, { maxLength: 40, size: 'medium' }))
    .map(([first, rest]) => [...first, ...rest]);
}

// ---- what is compared ----

interface CallbackEvent {
  /** Null for a NULL-pointer call: the TS trace does not name the program of a null call. */
  readonly program: number | null;
  readonly callback: string;
  readonly nullCall: boolean;
  readonly freed: boolean;
}

interface CqeSeen {
  readonly ring: number;
  readonly userData: number;
  readonly res: number;
}

interface Observed {
  readonly result: unknown;
  readonly sqes?: unknown;
  readonly cqes: readonly CqeSeen[];
  readonly callbacks: readonly CallbackEvent[];
}

interface Calls {
  prep: number;
  issue: number;
  fail: number;
  cleanup: number;
}

interface State {
  readonly programs: readonly {
    readonly id: number;
    readonly freed: boolean;
    readonly refs: number;
    readonly calls: Calls;
  }[];
  readonly fds: readonly (readonly { fd: number; kind: string; object: number }[])[];
  readonly violations: {
    freedCalls: number;
    nullCalls: number;
    refUnderflow: number;
    oob: number;
    lostRequests: number;
  };
}

/** A kernel return code from a TS Result: the value, or -errno. */
function code<T>(r: Result<T>, value: (v: T) => unknown): unknown {
  return r.ok ? value(r.value) : -ERRNO[r.errno];
}

/** A registration as the C API spells it (absent link and ring fds are -1). */
function cRegistration(r: Registration): NativeRegistration {
  const n = r.name;
  const value = n.kind === 'id' ? n.id : n.kind === 'fd' ? n.fd : n.index;
  return { name: { kind: n.kind, value }, linkFd: r.linkFd ?? -1, ringFd: r.ringFd ?? -1 };
}

/** A difference between the sides; its stack is just the message (fast-check prints the stack). */
class Mismatch extends Error {
  constructor(message: string) {
    super(message);
    this.stack = message;
  }
}

/** One design on both sides: the TS machine and the C world, driven command by command. */
class Pair {
  readonly m: Machine;
  readonly procs: readonly Process[];
  readonly c: NativeWorld;
  readonly regs: { readonly ts: Registration; readonly c: NativeRegistration }[] = [];
  readonly history: string[] = [];
  private readonly cqSeen = new Map<Ring, number>();
  private traceSeen = 0;
  private readonly calls = new Map<number, Calls>();
  private readonly violations = { freedCalls: 0, nullCalls: 0, refUnderflow: 0, oob: 0 };

  constructor(
    readonly design: DesignDef,
    addon: DesignsAddon,
    fdLimit: number,
  ) {
    this.m = new Machine(design);
    this.procs = [0, 1].map((i) => this.m.world.createProcess({ name: `p${i}`, fdLimit }));
    this.c = new addon.NativeWorld(design.name, fdLimit);
  }

  private proc(i: number): Process {
    return this.procs[i] as Process;
  }

  /** The fd `ref` names in process `proc`, resolved against the TS fd table. */
  private fd(proc: number, ref: FdRef): number {
    if ('raw' in ref) return ref.raw;
    const open = this.proc(proc).fds.list();
    const ofKind =
      ref.kind === null ? open : open.filter(([, file]) => file.payload.kind === ref.kind);
    const pool = ofKind.length > 0 ? ofKind : open;
    return pool[ref.pick % pool.length]?.[0] ?? FIRST_FREE_FD;
  }

  /** Runs `op` as one syscall of `proc` in TS, then the io-wq work and task work it left. */
  private ts<T>(proc: Process, op: Op<T>): T {
    const sched = this.m.scheduler;
    const value = this.m.run(proc, op);
    // The io-wq issues in the order they were punted, then their task-work
    // completions in the same order: the schedule the C world runs (world.h).
    this.m.settle();
    // Only a ring whose requests never complete (IOU_ISSUE_SKIP_COMPLETE) may wait on.
    const stuck = sched.actors.filter((a) => !a.done && !a.name.startsWith('ring-exit:'));
    if (stuck.length > 0)
      throw new Error(
        `actors did not finish: ${stuck.map((a) => `${a.name} at ${a.pending.label}`).join(', ')}`,
      );
    return value;
  }

  /** Runs one command on both sides and checks that they agree. */
  step(index: number, cmd: Command): void {
    const m = this.m;
    const c = this.c;
    let what: string;
    let ts: { result: unknown; sqes?: unknown };
    let cs: { result: unknown; sqes?: unknown; cqes: CqeSeen[] };
    switch (cmd.op) {
      case 'load': {
        const p = this.proc(cmd.proc);
        what = `load(p${cmd.proc}, ${JSON.stringify(cmd.spec)})`;
        const spec = programSpec(`prog@${index}`, cmd.spec);
        ts = { result: code(this.ts(p, m.world.loadProgram(p, spec)), (v) => v) };
        cs = { result: c.load(cmd.proc, cmd.spec), cqes: [] };
        break;
      }
      case 'setup': {
        const p = this.proc(cmd.proc);
        const bpf = (this.design.setupFlag !== null) !== cmd.flip;
        what = `setup(p${cmd.proc}, bpf=${bpf})`;
        ts = { result: code(this.ts(p, m.uring.setup(p, { bpf })), (v) => v) };
        cs = { result: c.setup(cmd.proc, bpf), cqes: [] };
        break;
      }
      case 'register': {
        const p = this.proc(cmd.proc);
        const progFd = this.fd(cmd.proc, cmd.prog);
        const ringFd = cmd.ring === null ? null : this.fd(cmd.proc, cmd.ring);
        const args: RegisterArgs = {
          progFd,
          ...(ringFd === null ? {} : { ringFd }),
          ...(cmd.id === null ? {} : { id: cmd.id }),
        };
        what = `register(p${cmd.proc}, ${JSON.stringify(args)})`;
        const tr = this.ts(p, m.ops.register(p, args));
        const cr = c.register(cmd.proc, progFd, ringFd, cmd.id);
        ts = { result: code(tr, cRegistration) };
        cs = { result: cr, cqes: [] };
        if (tr.ok && typeof cr !== 'number') this.regs.push({ ts: tr.value, c: cr });
        break;
      }
      case 'unregister': {
        const reg = this.regs[cmd.reg % Math.max(1, this.regs.length)];
        const p = this.proc(cmd.proc);
        if (reg === undefined) {
          what = `unregister(p${cmd.proc}): nothing registered, skipped`;
          ts = { result: null };
          cs = { result: null, cqes: [] };
          break;
        }
        what = `unregister(p${cmd.proc}, ${JSON.stringify(cRegistration(reg.ts))})`;
        ts = { result: code(this.ts(p, m.ops.unregister(p, reg.ts)), () => 0) };
        cs = { result: c.unregister(cmd.proc, reg.c), cqes: [] };
        break;
      }
      case 'submit': {
        const p = this.proc(cmd.proc);
        const ringFd = this.fd(cmd.proc, cmd.ring);
        const named = cmd.sqes.map((s, i) => {
          const userData = index * 8 + i + 1;
          const reg = 'reg' in s.name ? this.regs[s.name.reg % this.regs.length] : undefined;
          let tsName: ProgramName;
          let cReg: NativeRegistration;
          if (reg !== undefined) {
            tsName = reg.ts.name;
            cReg = reg.c;
          } else {
            const raw = 'raw' in s.name ? s.name.raw : s.name.reg;
            const fixed = 'raw' in s.name && s.name.fixed;
            tsName =
              this.design.nameKind === 'id'
                ? { kind: 'id', id: raw }
                : fixed
                  ? { kind: 'fixed', index: raw }
                  : { kind: 'fd', fd: raw };
            cReg = { name: { kind: tsName.kind, value: raw }, linkFd: -1, ringFd: -1 };
          }
          const tsSqe: Sqe = { ...m.ops.target(tsName), async: s.async, userData };
          const cSqe: NativeSqe = { ...c.target(cReg), async: s.async, userData };
          return { tsSqe, cSqe };
        });
        const tsSqes = named.map((n) => n.tsSqe);
        const cSqes = named.map((n) => n.cSqe);
        what = `submit(p${cmd.proc}, ring fd ${ringFd}, ${JSON.stringify(tsSqes)})`;
        const uring = m.uring;
        // One io_uring_enter() with every SQE, as the C world's sys_submit().
        const batch = function* (): Op<number> {
          for (const sqe of tsSqes) {
            const r = yield* uring.submit(p, ringFd, sqe);
            if (!r.ok) return -ERRNO[r.errno];
          }
          return tsSqes.length;
        };
        ts = { result: this.ts(p, batch()), sqes: tsSqes };
        cs = { result: c.submit(cmd.proc, ringFd, cSqes), sqes: cSqes, cqes: [] };
        break;
      }
      case 'close': {
        const p = this.proc(cmd.proc);
        const fd = this.fd(cmd.proc, cmd.fd);
        what = `close(p${cmd.proc}, ${fd})`;
        ts = { result: code(this.ts(p, m.world.close(p, fd)), () => 0) };
        cs = { result: c.close(cmd.proc, fd), cqes: [] };
        break;
      }
      case 'passFd': {
        const from = this.proc(cmd.from);
        const fd = this.fd(cmd.from, cmd.fd);
        what = `passFd(p${cmd.from}:${fd} -> p${cmd.to})`;
        ts = {
          result: code(this.ts(from, m.world.passFd(from, fd, this.proc(cmd.to))), (v) => v),
        };
        cs = { result: c.passFd(cmd.from, fd, cmd.to), cqes: [] };
        break;
      }
      case 'discover': {
        const p = this.proc(cmd.proc);
        what = `discover(p${cmd.proc})`;
        const discover = m.ops.discover;
        ts = {
          result: discover === null ? -ERRNO.EOPNOTSUPP : code(this.ts(p, discover(p)), (v) => v),
        };
        cs = { result: c.discover(cmd.proc), cqes: [] };
        break;
      }
    }
    // io-wq, task work and the kworker run after the command on both sides.
    c.settle();
    cs = { ...cs, cqes: c.takeCqes() };
    const events = m.world.trace.all().slice(this.traceSeen);
    this.traceSeen += events.length;
    const tsObserved: Observed = {
      ...ts,
      cqes: this.newCqes(),
      callbacks: this.account(events.map((e) => e.event)),
    };
    const cObserved: Observed = {
      ...cs,
      callbacks: c
        .takeLog()
        .map((e) =>
          e.nullCall
            ? { program: null, callback: e.callback, nullCall: true, freed: false }
            : { program: e.program, callback: e.callback, nullCall: false, freed: e.freed },
        ),
    };
    const cqes = tsObserved.cqes.map((q) => `${q.userData}:${q.res}`).join(' ');
    this.history.push(
      `#${index} ${what} -> ${JSON.stringify(ts.result)}${cqes === '' ? '' : `, CQEs ${cqes}`}`,
    );
    this.expectSame(index, 'the command', tsObserved, cObserved);
    this.expectSame(index, 'the state', this.tsState(), this.cState());
  }

  /** CQEs posted on any TS ring since the last command. */
  private newCqes(): CqeSeen[] {
    const out: CqeSeen[] = [];
    for (const ring of this.m.world.rings) {
      const seen = this.cqSeen.get(ring) ?? 0;
      for (const q of ring.cq.slice(seen))
        out.push({ ring: ring.id, userData: q.userData, res: q.res });
      this.cqSeen.set(ring, ring.cq.length);
    }
    return out;
  }

  /**
   * The command's callbacks as the C log spells them; updates the running
   * counts. The violation counters are the TS trace's: 'callback' events on a
   * freed program, 'null-call', 'ref-underflow' and 'out-of-bounds' (reads and
   * writes alike, as C counts every slot_of() past the array). Two counts could
   * differ and cannot arise here: C also counts a NULL call on a freed program
   * as a freed call, and TS sees underflows of every count (files, fixed-file
   * nodes) where C checks only programs and per-ctx slots. Null calls and
   * underflows need the planted bugs, which these runs leave off.
   */
  private account(events: readonly TraceEvent[]): CallbackEvent[] {
    const out: CallbackEvent[] = [];
    for (const e of events) {
      if (e.kind === 'callback') {
        const calls = this.calls.get(e.program) ?? { prep: 0, issue: 0, fail: 0, cleanup: 0 };
        calls[e.callback] += 1;
        this.calls.set(e.program, calls);
        if (e.freed) this.violations.freedCalls += 1;
        out.push({ program: e.program, callback: e.callback, nullCall: false, freed: e.freed });
      } else if (e.kind === 'null-call') {
        this.violations.nullCalls += 1;
        out.push({ program: null, callback: e.callback, nullCall: true, freed: false });
      } else if (e.kind === 'ref-underflow') {
        this.violations.refUnderflow += 1;
      } else if (e.kind === 'out-of-bounds') {
        this.violations.oob += 1;
      }
    }
    return out;
  }

  private tsState(): State {
    return {
      programs: this.m.world.programs.map((p) => ({
        id: p.id,
        freed: p.freed,
        refs: p.refs.count,
        calls: { prep: 0, issue: 0, fail: 0, cleanup: 0, ...this.calls.get(p.id) },
      })),
      fds: this.procs.map((p) =>
        p.fds.list().map(([fd, file]) => {
          const pl = file.payload;
          const object =
            pl.kind === 'bpf-prog'
              ? pl.program.id
              : pl.kind === 'bpf-link'
                ? pl.link.program.id
                : pl.kind === 'io_uring'
                  ? pl.ring.id
                  : -1;
          return { fd, kind: pl.kind, object };
        }),
      ),
      violations: { ...this.violations, lostRequests: 0 },
    };
  }

  private cState(): State {
    const v = this.c.violations();
    return {
      programs: this.c.programs().map(({ id, freed, refs, calls }) => ({ id, freed, refs, calls })),
      fds: [this.c.fds(0), this.c.fds(1)],
      violations: {
        freedCalls: v.freedCalls,
        nullCalls: v.nullCalls,
        refUnderflow: v.refUnderflow,
        oob: v.oob,
        lostRequests: v.lostRequests,
      },
    };
  }

  private expectSame(index: number, what: string, ts: unknown, c: unknown): void {
    if (isDeepStrictEqual(ts, c)) return;
    this.fail(
      `${what} differs at command #${index}`,
      `  TS: ${JSON.stringify(ts)}`,
      `  C:  ${JSON.stringify(c)}`,
    );
  }

  /** Throws a Mismatch that lists the commands run so far. */
  fail(...lines: string[]): never {
    throw new Mismatch(
      [
        `${this.design.name}: ${lines[0]}`,
        ...lines.slice(1),
        'commands (TS results):',
        ...this.history.map((h) => `  ${h}`),
      ].join('\n'),
    );
  }
}

/** Runs `cmds` on both sides of `design`; throws a Mismatch naming the first difference. */
function runBoth(
  addon: DesignsAddon,
  design: DesignDef,
  fdLimit: number,
  cmds: readonly Command[],
): void {
  const pair = new Pair(design, addon, fdLimit);
  try {
    cmds.forEach((cmd, i) => {
      try {
        pair.step(i, cmd);
      } catch (e) {
        if (e instanceof Mismatch) throw e;
        // A TS op that blocks or throws: the C side was not run (it would hang there).
        pair.fail(`command #${i} ${JSON.stringify(cmd)} threw in TS: ${String(e)}`);
      }
    });
  } finally {
    pair.c.destroy();
  }
}

const native = nativeDesigns();
const skip = native.ok ? false : native.reason;

describe('TS models and C designs, differentially', { skip }, () => {
  const addon = native.ok ? native.addon : null;

  it('list the same designs with the same naming', () => {
    assert.ok(addon);
    assert.deepEqual(
      addon.designDefs(),
      DESIGNS.map((d) => ({
        name: d.name,
        nameKind: d.nameKind,
        scope: d.scope,
        idMin: d.idRange?.min ?? 0,
        idMax: d.idRange?.max ?? null,
        setupFlag: d.setupFlag !== null,
        discovery: new Machine(d).ops.discover !== null,
      })),
    );
  });

  it('agree on the per-ctx use after free when another process drops the link', () => {
    // ->unreg() resolves ring_fd in the task that drops the last link reference: p1, where
    // fd 3 is the link itself (already out of the table), so the slot keeps the program that
    // the link's put then frees; the next request on the ring runs it.
    assert.ok(addon);
    const spec: NativeProgramSpec = {
      prep: 0,
      issue: { res: 1, ret: 0 },
      fail: true,
      cleanup: true,
    };
    const cmds: Command[] = [
      { op: 'setup', proc: 0, flip: false }, // ring fd 3
      { op: 'load', proc: 0, spec }, // program fd 4
      { op: 'register', proc: 0, prog: { raw: 4 }, ring: { raw: 3 }, id: 0 }, // link fd 5
      { op: 'passFd', from: 0, fd: { raw: 5 }, to: 1 }, // p1's fd 3
      { op: 'close', proc: 0, fd: { raw: 5 } },
      { op: 'close', proc: 1, fd: { raw: 3 } }, // last link reference: ->unreg() in p1
      { op: 'close', proc: 0, fd: { raw: 4 } }, // last program reference
      {
        op: 'submit',
        proc: 0,
        ring: { raw: 3 },
        sqes: [{ name: { raw: 0, fixed: false }, async: false }],
      },
    ];
    runBoth(addon, perCtx, 1024, cmds);
    const c = new addon.NativeWorld('per-ctx', 1024);
    try {
      assert.equal(c.setup(0, true), 3);
      assert.equal(c.load(0, spec), 4);
      const reg = c.register(0, 4, 3, 0);
      assert.equal(typeof reg, 'object');
      assert.equal(c.passFd(0, 5, 1), 3);
      assert.equal(c.close(0, 5), 0);
      assert.equal(c.close(1, 3), 0);
      assert.equal(c.close(0, 4), 0);
      c.settle(); // the program's grace period passes: it is freed
      assert.equal(
        c.submit(0, 3, [{ ...c.target(reg as NativeRegistration), async: false, userData: 1 }]),
        1,
      );
      assert.ok(c.violations().freedCalls > 0, 'the freed program ran');
    } finally {
      c.destroy();
    }
  });

  DESIGNS.forEach((design, i) => {
    it(`${design.name}: every command gives the same result and state`, () => {
      assert.ok(addon);
      fc.assert(
        fc.property(fc.constantFrom(8, 12, 64), sequenceArb(design), (fdLimit, cmds) => {
          runBoth(addon, design, fdLimit, cmds);
        }),
        { seed: SEED + i, numRuns: RUNS, includeErrorInReport: true },
      );
    });
  });
});
