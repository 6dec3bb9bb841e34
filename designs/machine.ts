// A world with one design installed: the io_uring core, the design's hooks
// and a scheduler. Tests, the fuzzer and the model lane start from here.

import type { DesignDef, DesignOps, ProgramName } from './design.js';
import { IoUring } from './io-uring.js';
import type { Op } from './kernel/step.js';
import { type Outcome, Scheduler } from './scheduler.js';
import { type Process, type Sqe, World } from './world.js';

export class Machine {
  readonly world = new World();
  readonly scheduler = new Scheduler(this.world);
  readonly ops: DesignOps;
  readonly uring: IoUring;
  private opCount = 0;

  constructor(readonly design: DesignDef) {
    this.ops = design.create(this.world);
    this.uring = new IoUring(this.world, this.ops);
  }

  /**
   * Runs `op` alone in `proc`'s context until it returns (throws if it
   * blocks). Actors it spawned (io-wq, task work) are left for settle().
   */
  run<T>(proc: Process | null, op: Op<T>): T {
    this.opCount += 1;
    return this.scheduler.runAlone(`${proc?.name ?? 'kernel'}#${this.opCount}`, op, proc);
  }

  /**
   * Runs `op` straight through on the caller's stack, without the scheduler
   * (the model lane's timed loop). Throws if it would have to wait, or if it
   * spawned an actor: only ops that complete inline belong here.
   */
  runDirect<T>(proc: Process | null, op: Op<T>): T {
    const { trace } = this.world;
    const actors = this.scheduler.actors.length;
    trace.actor = proc?.name ?? 'kernel';
    this.world.current = proc;
    try {
      for (;;) {
        const next = op.next();
        if (next.done) {
          if (this.scheduler.actors.length !== actors)
            throw new Error('runDirect: the op spawned an actor');
          return next.value;
        }
        if (next.value.ready !== undefined && !next.value.ready()) {
          throw new Error(`runDirect: the op would wait at '${next.value.label}'`);
        }
      }
    } finally {
      trace.actor = 'setup';
      this.world.current = null;
    }
  }

  /** Runs every pending actor to the end in the order they were added. */
  settle(maxSteps?: number): Outcome {
    return this.scheduler.run([], maxSteps);
  }

  /** The SQE that names `name` in this design. */
  sqe(name: ProgramName, userData: number, async = false): Sqe {
    return { ...this.ops.target(name), async, userData };
  }
}
