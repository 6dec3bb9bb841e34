// The TypeScript models (the spec) against the C designs (native/src/designs):
// fast-check generates sequential command sequences (load, setup, register,
// unregister, submit, close, pass an fd, discover, exit); every design runs
// each sequence on a TS Machine and on a C NativeWorld. Each command is one
// syscall, then a settle: io-wq, the task work of idle tasks and the
// kworker (a program's grace period, a ring's exit work) run until nothing
// is left. After the syscall and again after the settle the two sides must
// agree on the command's result, the CQEs posted, the callbacks run (in
// order), every program's refs/released/freed/call counts, both processes'
// fd tables and the violation counters (use after free, null calls, NULL
// dereferences, out-of-bounds accesses, refcount underflows).
//
// Commands name fds and registrations by index (modulo what is open or
// registered, resolved against the TS state, which the C state has been
// checked equal to), so most of them are meaningful; a few use values that
// are never valid (fd 99, ids past the design's range, op ids >= 16).
// Setup may give the ring a residue (what its fresh requests' command area
// and result hold) and may leave out the design's setup flag.
//
// Exit: an oops on the way (an fget() after exit_files()) kills the task on
// both sides; a parked request (IOU_ISSUE_SKIP_COMPLETE, never completed)
// makes the TS exit wait forever and the C exit return -EDEADLK, which is
// what the TS side is compared as. A process that exited makes no more
// syscalls: its later commands are skipped, except exit itself (-ESRCH).
// The C world has no DEFER_TASKRUN rings, so none are made.

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
import {
  type Process,
  programSpec,
  type RequestResidue,
  type Ring,
  type Sqe,
} from '../../designs/world.js';
import {
  type DesignsAddon,
  type NativeProgramSpec,
  type NativeRegistration,
  type NativeResidue,
  type NativeSqe,
  type NativeViolations,
  type NativeWorld,
  nativeDesigns,
} from '../../native/designs.js';

const RUNS = 100;
const SEED = 0x1ab;

/** include/uapi/asm-generic/errno.h: what the C exit returns when a parked request keeps it waiting. */
const EDEADLK = 35;

type FdKind = 'bpf-prog' | 'bpf-link' | 'io_uring';

/** An open fd of the process (the `pick`-th of that kind, modulo how many), or a raw number. */
type FdRef = { readonly pick: number; readonly kind: FdKind | null } | { readonly raw: number };

/** A registration made earlier (by index, modulo how many), or a raw name. */
type NameRef = { readonly reg: number } | { readonly raw: number; readonly fixed: boolean };

/**
 * What a ring's fresh requests hold in their command area and result. `ops`
 * picks a loaded program (modulo how many, 0 for none): a stale pointer, no
 * reference held, as an old kernel's slab left it.
 */
interface ResidueRef {
  readonly op: number;
  readonly ops: number;
  readonly res: number;
}

type Command =
  | { readonly op: 'load'; readonly proc: number; readonly spec: NativeProgramSpec }
  /** flip: create the ring without the design's setup flag (or with one it does not have). */
  | {
      readonly op: 'setup';
      readonly proc: number;
      readonly flip: boolean;
      readonly residue: ResidueRef | null;
    }
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
  | { readonly op: 'discover'; readonly proc: number }
  | { readonly op: 'exit'; readonly proc: number };

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
  // A residue's op is an op id as prep decodes it: a registered one, or one past v1's array.
  const residue: fc.Arbitrary<ResidueRef | null> = fc.option(
    fc.record({
      op: fc.constantFrom(0, 1, 2, 3, 255, 300),
      ops: fc.nat(4),
      res: fc.integer({ min: -3, max: 99 }),
    }),
    { nil: null, freq: 3 },
  );
  const load = (p: fc.Arbitrary<number>) =>
    fc.record({ op: fc.constant('load' as const), proc: p, spec });
  const setup = (p: fc.Arbitrary<number>) =>
    fc.record({
      op: fc.constant('setup' as const),
      proc: p,
      flip: fc.constantFrom(false, false, false, true),
      residue,
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
    { weight: 6, arbitrary: load(proc) },
    { weight: 4, arbitrary: setup(proc) },
    { weight: 8, arbitrary: register(proc) },
    {
      weight: 4,
      arbitrary: fc.record({ op: fc.constant('unregister' as const), proc, reg: fc.nat(7) }),
    },
    {
      weight: 10,
      arbitrary: fc.record({
        op: fc.constant('submit' as const),
        proc,
        ring: fd('io_uring'),
        sqes: fc.array(fc.record({ name, async: fc.boolean() }), { minLength: 1, maxLength: 4 }),
      }),
    },
    {
      weight: 6,
      arbitrary: fc.record({ op: fc.constant('close' as const), proc, fd: anyFd }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        op: fc.constant('passFd' as const),
        from: proc,
        fd: anyFd,
        to: proc,
      }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('discover' as const), proc }) },
    // Rare: an exit ends what its process can do for the rest of the sequence.
    { weight: 1, arbitrary: fc.record({ op: fc.constant('exit' as const), proc }) },
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

/** A syscall's own outcome: its result and, for a submit, the SQEs each side built. */
interface Outcome {
  readonly result?: unknown;
  readonly sqes?: unknown;
}

interface Observed extends Outcome {
  readonly cqes: readonly CqeSeen[];
  readonly callbacks: readonly CallbackEvent[];
}

interface Calls {
  prep: number;
  issue: number;
  fail: number;
  cleanup: number;
}

interface Violations {
  freedCalls: number;
  nullCalls: number;
  nullDerefs: number;
  refUnderflow: number;
  oob: number;
  lostRequests: number;
}

interface State {
  readonly programs: readonly {
    readonly id: number;
    readonly released: boolean;
    readonly freed: boolean;
    readonly refs: number;
    readonly calls: Calls;
  }[];
  readonly fds: readonly (readonly { fd: number; kind: string; object: number }[])[];
  readonly violations: Violations;
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

/** How one TS syscall ended: its value, an oops that killed the task, or a wait nothing ends. */
type SyscallEnd<T> =
  | { readonly kind: 'returned'; readonly value: T }
  | { readonly kind: 'oopsed' }
  | { readonly kind: 'hung' };

/** What the commands of one run reached, summed over a property's runs (so a test can require coverage). */
interface Coverage {
  /** exit() calls that ran to the end, or oopsed there, or hung on a parked request. */
  exits: number;
  exitOopses: number;
  exitHangs: number;
  /** CQEs posted while the world settled (io-wq completions, failures in task work). */
  settledCqes: number;
  /** Rings set up with a residue. */
  residueSetups: number;
}

const emptyCoverage = (): Coverage => ({
  exits: 0,
  exitOopses: 0,
  exitHangs: 0,
  settledCqes: 0,
  residueSetups: 0,
});

/** One design on both sides: the TS machine and the C world, driven command by command. */
class Pair {
  readonly m: Machine;
  readonly procs: readonly Process[];
  readonly c: NativeWorld;
  readonly regs: { readonly ts: Registration; readonly c: NativeRegistration }[] = [];
  readonly history: string[] = [];
  private readonly cqSeen = new Map<Ring, number>();
  private traceSeen = 0;
  private syscalls = 0;
  private readonly calls = new Map<number, Calls>();
  private readonly violations = {
    freedCalls: 0,
    nullCalls: 0,
    nullDerefs: 0,
    refUnderflow: 0,
    oob: 0,
  };
  /** TS syscall actors waiting for ever (an exit on a parked request; the C exit says -EDEADLK). */
  private readonly hungSyscalls = new Set<string>();
  /** Processes that called exit(): they make no more syscalls. */
  private readonly exited = new Set<number>();

  constructor(
    readonly design: DesignDef,
    addon: DesignsAddon,
    fdLimit: number,
    readonly coverage: Coverage,
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

  /**
   * Runs `op` as one syscall of `proc` in TS, as Machine.run() does, but
   * says how it ended instead of throwing: an oops kills the task, and a wait
   * that nothing in the world can end (the actors it leaves pending have all
   * run) is a hang. Actors it spawned (io-wq, task work, kworkers) are left
   * for settle().
   */
  private syscall<T>(proc: Process, op: Op<T>): SyscallEnd<T> {
    const sched = this.m.scheduler;
    this.syscalls += 1;
    const actor = sched.add(`${proc.name}#${this.syscalls}`, op, proc);
    while (!actor.done) {
      const ready = sched.runnable();
      if (ready.length === 0) {
        this.hungSyscalls.add(actor.name);
        return { kind: 'hung' };
      }
      sched.stepActor(ready.includes(actor) ? actor : (ready[0] as typeof actor));
    }
    if (actor.oops !== null) return { kind: 'oopsed' };
    return { kind: 'returned', value: actor.result as T };
  }

  /** A syscall that neither oopses nor hangs here: its value. */
  private ts<T>(proc: Process, op: Op<T>): T {
    const end = this.syscall(proc, op);
    if (end.kind !== 'returned') throw new Error(`the syscall ${end.kind}`);
    return end.value;
  }

  /** io-wq, task work and kworkers in TS: every pending actor to the end, in the order they were added. */
  private settleTs(): void {
    this.m.settle();
    // Only rings whose requests never complete (parked ones) and syscalls that hung on them may wait on.
    const stuck = this.m.scheduler.actors.filter(
      (a) => !a.done && !a.name.startsWith('ring-exit:') && !this.hungSyscalls.has(a.name),
    );
    if (stuck.length > 0)
      throw new Error(
        `actors did not finish: ${stuck.map((a) => `${a.name} at ${a.pending.label}`).join(', ')}`,
      );
  }

  /** The residue `ref` names, for TS (a Program) and for C (a program id). */
  private residue(ref: ResidueRef): { ts: RequestResidue; c: NativeResidue } {
    const programs = this.m.world.programs;
    const program = ref.ops === 0 ? null : (programs[(ref.ops - 1) % programs.length] ?? null);
    return {
      ts: { op: ref.op, ops: program, res: ref.res },
      c: { op: ref.op, ops: program?.id ?? 0, res: ref.res },
    };
  }

  /** Runs one command on both sides, then settles both, checking that they agree after each. */
  step(index: number, cmd: Command): void {
    const { what, ts, cs } = this.run(index, cmd);
    const line = `#${index} ${what} -> ${JSON.stringify(ts.result)}`;
    this.history.push(line);
    const commandCqes = this.compare(index, 'the command', ts, cs);
    // io-wq, task work and the kworker run after the command on both sides.
    this.c.settle();
    this.settleTs();
    const settleCqes = this.compare(index, 'the settle after it', {}, {});
    this.coverage.settledCqes += settleCqes.length;
    const cqes = [...commandCqes, ...settleCqes].map((q) => `${q.userData}:${q.res}`).join(' ');
    if (cqes !== '') this.history[this.history.length - 1] = `${line}, CQEs ${cqes}`;
  }

  /**
   * Compares what happened since the last comparison: the command's result
   * and SQEs (`ts`, `c`; empty for a settle), the CQEs and callbacks each
   * side has seen since, then the states. Returns the TS CQEs.
   */
  private compare(index: number, phase: string, ts: Outcome, c: Outcome): CqeSeen[] {
    const events = this.m.world.trace.all().slice(this.traceSeen);
    this.traceSeen += events.length;
    const tsCqes = this.newCqes();
    const tsObserved: Observed = {
      ...ts,
      cqes: tsCqes,
      callbacks: this.account(events.map((e) => e.event)),
    };
    const cObserved: Observed = {
      ...c,
      cqes: this.c.takeCqes(),
      callbacks: this.c
        .takeLog()
        .map((e) =>
          e.nullCall
            ? { program: null, callback: e.callback, nullCall: true, freed: false }
            : { program: e.program, callback: e.callback, nullCall: false, freed: e.freed },
        ),
    };
    const differs = (what: string, a: unknown, b: unknown) =>
      isDeepStrictEqual(a, b)
        ? null
        : [
            `${what} differs at command #${index} (${phase})`,
            `  TS: ${JSON.stringify(a)}`,
            `  C:  ${JSON.stringify(b)}`,
          ];
    const diff =
      differs('what it did', tsObserved, cObserved) ??
      differs('the state', this.tsState(), this.cState());
    if (diff !== null) this.fail(...diff);
    return tsCqes;
  }

  /** Runs `cmd`'s syscall on both sides (no settle): what to print, and each side's result. */
  private run(index: number, cmd: Command): { what: string; ts: Outcome; cs: Outcome } {
    const m = this.m;
    const c = this.c;
    const actor = cmd.op === 'passFd' ? cmd.from : cmd.proc;
    if (this.exited.has(actor) && cmd.op !== 'exit') {
      return {
        what: `${cmd.op}(p${actor}): the process exited, skipped`,
        ts: { result: null },
        cs: { result: null },
      };
    }
    switch (cmd.op) {
      case 'load': {
        const p = this.proc(cmd.proc);
        const spec = programSpec(`prog@${index}`, cmd.spec);
        return {
          what: `load(p${cmd.proc}, ${JSON.stringify(cmd.spec)})`,
          ts: { result: code(this.ts(p, m.world.loadProgram(p, spec)), (v) => v) },
          cs: { result: c.load(cmd.proc, cmd.spec) },
        };
      }
      case 'setup': {
        const p = this.proc(cmd.proc);
        const bpf = (this.design.setupFlag !== null) !== cmd.flip;
        const residue = cmd.residue === null ? null : this.residue(cmd.residue);
        if (residue !== null) this.coverage.residueSetups += 1;
        const tsOptions = residue === null ? { bpf } : { bpf, residue: residue.ts };
        return {
          what: `setup(p${cmd.proc}, bpf=${bpf}${residue === null ? '' : `, residue ${JSON.stringify(residue.c)}`})`,
          ts: { result: code(this.ts(p, m.uring.setup(p, tsOptions)), (v) => v) },
          cs: {
            result: residue === null ? c.setup(cmd.proc, bpf) : c.setup(cmd.proc, bpf, residue.c),
          },
        };
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
        const tr = this.ts(p, m.ops.register(p, args));
        const cr = c.register(cmd.proc, progFd, ringFd, cmd.id);
        if (tr.ok && typeof cr !== 'number') this.regs.push({ ts: tr.value, c: cr });
        return {
          what: `register(p${cmd.proc}, ${JSON.stringify(args)})`,
          ts: { result: code(tr, cRegistration) },
          cs: { result: cr },
        };
      }
      case 'unregister': {
        const reg = this.regs[cmd.reg % Math.max(1, this.regs.length)];
        const p = this.proc(cmd.proc);
        if (reg === undefined) {
          return {
            what: `unregister(p${cmd.proc}): nothing registered, skipped`,
            ts: { result: null },
            cs: { result: null },
          };
        }
        return {
          what: `unregister(p${cmd.proc}, ${JSON.stringify(cRegistration(reg.ts))})`,
          ts: { result: code(this.ts(p, m.ops.unregister(p, reg.ts)), () => 0) },
          cs: { result: c.unregister(cmd.proc, reg.c) },
        };
      }
      case 'submit':
        return this.submit(index, cmd);
      case 'close': {
        const p = this.proc(cmd.proc);
        const fd = this.fd(cmd.proc, cmd.fd);
        return {
          what: `close(p${cmd.proc}, ${fd})`,
          ts: { result: code(this.ts(p, m.world.close(p, fd)), () => 0) },
          cs: { result: c.close(cmd.proc, fd) },
        };
      }
      case 'passFd': {
        const from = this.proc(cmd.from);
        const fd = this.fd(cmd.from, cmd.fd);
        return {
          what: `passFd(p${cmd.from}:${fd} -> p${cmd.to})`,
          ts: {
            result: code(this.ts(from, m.world.passFd(from, fd, this.proc(cmd.to))), (v) => v),
          },
          cs: { result: c.passFd(cmd.from, fd, cmd.to) },
        };
      }
      case 'discover': {
        const p = this.proc(cmd.proc);
        const discover = m.ops.discover;
        return {
          what: `discover(p${cmd.proc})`,
          ts: {
            result: discover === null ? -ERRNO.EOPNOTSUPP : code(this.ts(p, discover(p)), (v) => v),
          },
          cs: { result: c.discover(cmd.proc) },
        };
      }
      case 'exit':
        return this.exit(cmd.proc);
    }
  }

  /** One io_uring_enter() with every SQE, as the C world's sys_submit(). */
  private submit(index: number, cmd: Extract<Command, { op: 'submit' }>) {
    const m = this.m;
    const c = this.c;
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
    const uring = m.uring;
    const batch = function* (): Op<number> {
      for (const sqe of tsSqes) {
        const r = yield* uring.submit(p, ringFd, sqe);
        if (!r.ok) return -ERRNO[r.errno];
      }
      return tsSqes.length;
    };
    return {
      what: `submit(p${cmd.proc}, ring fd ${ringFd}, ${JSON.stringify(tsSqes)})`,
      ts: { result: this.ts(p, batch()), sqes: tsSqes },
      cs: { result: c.submit(cmd.proc, ringFd, cSqes), sqes: cSqes },
    };
  }

  /**
   * exit(): 0 when it returned or oopsed on the way (the task is gone
   * either way; the NULL dereference shows in the counters), -EDEADLK when
   * it waits for good on a parked request (TS: the actor never finishes).
   */
  private exit(proc: number) {
    const p = this.proc(proc);
    const end = this.syscall(p, this.m.world.exit(p));
    const result =
      end.kind === 'returned' ? code(end.value, () => 0) : end.kind === 'hung' ? -EDEADLK : 0;
    if (end.kind !== 'returned' || end.value.ok) {
      this.exited.add(proc);
      this.coverage.exits += 1;
    }
    if (end.kind === 'oopsed') this.coverage.exitOopses += 1;
    if (end.kind === 'hung') this.coverage.exitHangs += 1;
    return {
      what: `exit(p${proc})${end.kind === 'returned' ? '' : ` (${end.kind} in TS)`}`,
      ts: { result },
      cs: { result: this.c.exit(proc) },
    };
  }

  /** CQEs posted on any TS ring since the last comparison. */
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
   * The callbacks since the last comparison as the C log spells them;
   * updates the running counts. The violation counters are the TS trace's:
   * 'callback' events on a freed program, 'null-call', 'null-deref',
   * 'ref-underflow' and 'out-of-bounds' (reads and writes alike, one per
   * struct member, as C counts them). Two counts could differ and cannot
   * arise here: C also counts a NULL call on a freed program as a freed
   * call, and TS sees underflows of every count (files, fixed-file nodes)
   * where C checks only programs and per-ctx slots. Null calls and
   * underflows need the planted bugs or a residue, and a program's fail_fn
   * is never NULL-called without them.
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
      } else if (e.kind === 'null-deref') {
        this.violations.nullDerefs += 1;
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
        released: p.released,
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
      programs: this.c
        .programs()
        .map(({ id, released, freed, refs, calls }) => ({ id, released, freed, refs, calls })),
      fds: [this.c.fds(0), this.c.fds(1)],
      violations: {
        freedCalls: v.freedCalls,
        nullCalls: v.nullCalls,
        nullDerefs: v.nullDerefs,
        refUnderflow: v.refUnderflow,
        oob: v.oob,
        lostRequests: v.lostRequests,
      },
    };
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

/**
 * Runs `cmds` on both sides of `design`; throws a Mismatch naming the first
 * difference. Returns what the run covered and the C world's final counters.
 */
function runBoth(
  addon: DesignsAddon,
  design: DesignDef,
  fdLimit: number,
  cmds: readonly Command[],
  coverage = emptyCoverage(),
): { coverage: Coverage; violations: NativeViolations } {
  const pair = new Pair(design, addon, fdLimit, coverage);
  try {
    cmds.forEach((cmd, i) => {
      try {
        pair.step(i, cmd);
      } catch (e) {
        if (e instanceof Mismatch) throw e;
        // A TS op that blocks or throws: the C side may not have run (it would hang there).
        pair.fail(`command #${i} ${JSON.stringify(cmd)} threw in TS: ${String(e)}`);
      }
    });
    return { coverage, violations: pair.c.violations() };
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
      { op: 'setup', proc: 0, flip: false, residue: null }, // ring fd 3
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
    const end = runBoth(addon, perCtx, 1024, cmds);
    assert.ok(end.violations.freedCalls > 0, 'the freed program ran');
  });

  it("agree on per-ctx's oops when exit drops a link after exit_files()", () => {
    // exit_files() puts the ring, the program and the link; exit_task_work() runs their
    // __fputs newest first: the link's ->unreg() looks ring_fd up in current->files, which is
    // NULL by then. The task dies there: the program and ring __fputs never run.
    assert.ok(addon);
    const cmds: Command[] = [
      { op: 'setup', proc: 0, flip: false, residue: null }, // ring fd 3
      { op: 'load', proc: 0, spec: { prep: 0, issue: null, fail: true, cleanup: true } }, // fd 4
      { op: 'register', proc: 0, prog: { raw: 4 }, ring: { raw: 3 }, id: 0 }, // link fd 5
      { op: 'exit', proc: 0 },
      { op: 'exit', proc: 0 }, // -ESRCH
    ];
    const end = runBoth(addon, perCtx, 1024, cmds);
    assert.equal(end.coverage.exitOopses, 1);
    assert.equal(end.violations.nullDerefs, 1);
  });

  it('agree that a parked request keeps exit waiting (TS for ever, C -EDEADLK)', () => {
    assert.ok(addon);
    const parks: NativeProgramSpec = {
      prep: 0,
      issue: { res: 0, ret: -ERRNO.EIOCBQUEUED },
      fail: true,
      cleanup: true,
    };
    const cmds: Command[] = [
      { op: 'setup', proc: 0, flip: false, residue: null }, // ring fd 3
      { op: 'load', proc: 0, spec: parks }, // fd 4
      { op: 'register', proc: 0, prog: { raw: 4 }, ring: null, id: 1 }, // link fd 5
      { op: 'submit', proc: 0, ring: { raw: 3 }, sqes: [{ name: { reg: 0 }, async: true }] },
      { op: 'exit', proc: 0 },
      { op: 'setup', proc: 1, flip: false, residue: null },
      { op: 'passFd', from: 1, fd: { raw: 3 }, to: 0 }, // -ECONNREFUSED
      { op: 'exit', proc: 0 }, // -ESRCH
      { op: 'exit', proc: 1 },
    ];
    const end = runBoth(
      addon,
      DESIGNS.find((d) => d.name === 'global-array') as DesignDef,
      1024,
      cmds,
    );
    assert.equal(end.coverage.exitHangs, 1);
    assert.equal(end.coverage.exits, 2);
  });

  it("agree on what a ring's residue leaves for ->fail() after a prep refused on an unflagged ring", () => {
    assert.ok(addon);
    const spec: NativeProgramSpec = { prep: 0, issue: null, fail: true, cleanup: true };
    // per-ctx: -EOPNOTSUPP before data->ops is written; ->fail() calls the residue's
    // fail_fn, a program freed meanwhile (a use after free).
    const perCtxCmds: Command[] = [
      { op: 'load', proc: 0, spec }, // fd 3: program 1
      { op: 'close', proc: 0, fd: { raw: 3 } }, // released, freed after the grace period
      { op: 'setup', proc: 0, flip: true, residue: { op: 0, ops: 1, res: 7 } }, // ring fd 3
      {
        op: 'submit',
        proc: 0,
        ring: { raw: 3 },
        sqes: [{ name: { raw: 0, fixed: false }, async: false }],
      },
    ];
    assert.equal(runBoth(addon, perCtx, 1024, perCtxCmds).violations.freedCalls, 1);
    // global-array: -EACCES before data->opf is written; ->fail() reads bpf_ops[300], past
    // the array (one load: the test of fail_fn finds NULL there).
    const globalCmds: Command[] = [
      { op: 'setup', proc: 0, flip: true, residue: { op: 300, ops: 0, res: 0 } },
      {
        op: 'submit',
        proc: 0,
        ring: { raw: 3 },
        sqes: [{ name: { raw: 0, fixed: false }, async: false }],
      },
    ];
    const globalArray = DESIGNS.find((d) => d.name === 'global-array') as DesignDef;
    assert.equal(runBoth(addon, globalArray, 1024, globalCmds).violations.oob, 1);
  });

  DESIGNS.forEach((design, i) => {
    it(`${design.name}: every command gives the same result and state`, () => {
      assert.ok(addon);
      const coverage = emptyCoverage();
      fc.assert(
        fc.property(fc.constantFrom(8, 12, 64), sequenceArb(design), (fdLimit, cmds) => {
          runBoth(addon, design, fdLimit, cmds, coverage);
        }),
        { seed: SEED + i, numRuns: RUNS, includeErrorInReport: true },
      );
      // The generator reaches what the comparison is for.
      assert.ok(coverage.exits > 0, 'no exit ran');
      assert.ok(coverage.settledCqes > 0, 'no CQE was posted while the world settled');
      assert.ok(coverage.residueSetups > 0, 'no ring had a residue');
    });
  });
});
