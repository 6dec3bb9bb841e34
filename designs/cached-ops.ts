// The request side of v2/v3 (20260106101126.4064990-7-ming.lei@redhat.com):
// prep looks the program up once and caches the pointer in the request;
// issue, fail and cleanup use the cached pointer and never look again. An
// issue return of IOU_ISSUE_SKIP_COMPLETE becomes -EINVAL so a program
// cannot leave a request without a completion. The pointer lives in the
// request's command area, which is not cleared between the io_kiocb's users:
// prep writes it only once the lookup succeeded, so ->fail() after an earlier
// prep failure calls the previous user's fail_fn. per-ctx uses it as posted;
// per-fd and per-fd-fixed, proposed without code, use it with their own
// lookup, so that only the naming differs from the adopted design.

import { IOU_ISSUE_SKIP_COMPLETE, ioFindBufNode } from './io-uring.js';
import { neg } from './kernel/errno.js';
import { at, type Op } from './kernel/step.js';
import type { File, Program, Request, World } from './world.js';

export class CachedOps {
  constructor(private readonly world: World) {}

  /** data->ops: what the command area holds, written by this request's prep or left by the previous user. */
  get(req: Request): Program | null {
    return req.cmd.ops;
  }

  /** data->ops = program; then prep_fn, or -EOPNOTSUPP without one. */
  *prepWith(req: Request, program: Program): Op<number> {
    req.cmd.ops = program;
    if (!program.has('prep')) return neg('EOPNOTSUPP');
    yield* at('prep_fn');
    return this.world.callProgram(req, program, 'prep', 'prep');
  }

  /**
   * ->issue(): the cached issue_fn, with SKIP_COMPLETE turned into -EINVAL.
   * Without one it returns 0 (IOU_COMPLETE) having set no result, so the CQE
   * carries the res the io_kiocb's previous user left.
   */
  *issue(req: Request, unlocked = false): Op<number> {
    const program = this.get(req);
    if (program === null || !program.has('issue')) return 0;
    yield* at('issue_fn');
    const ret = this.world.callProgram(req, program, 'issue', 'issue');
    // V2 08/13 uring_bpf_memcpy() (20260106101126.4064990-9-ming.lei@redhat.com):
    // io_ring_submit_lock(ctx, data->issue_flags) around the buffer import, as in v1.
    if (program.spec.memcpy === true) yield* ioFindBufNode(req, unlocked);
    return ret === IOU_ISSUE_SKIP_COMPLETE ? neg('EINVAL') : ret;
  }

  /** ->fail(): the cached fail_fn, if any. */
  *fail(req: Request): Op<void> {
    const program = this.get(req);
    if (program === null || !program.has('fail')) return;
    yield* at('fail_fn');
    this.world.callProgram(req, program, 'fail', 'fail');
  }

  /** ->cleanup()'s callback part: the cached cleanup_fn, if any. */
  *cleanup(req: Request): Op<void> {
    const program = this.get(req);
    if (program === null || !program.has('cleanup')) return;
    yield* at('cleanup_fn');
    this.world.callProgram(req, program, 'cleanup', 'cleanup');
  }

  /**
   * Prep for the fd-based designs: `file` is the reference the request now
   * holds (put when it is freed). Not a program (bpf_prog_get_type()) is
   * -EINVAL; a successful prep_fn marks the request for cleanup.
   */
  *prepFromFile(req: Request, file: File): Op<number> {
    if (file.payload.kind !== 'bpf-prog') return neg('EINVAL');
    const ret = yield* this.prepWith(req, file.payload.program);
    // Planted bug (skip-cleanup-flag): REQ_F_NEED_CLEANUP is not set, so cleanup_fn never runs.
    if (ret === 0 && !this.world.trace.mutations.has('skip-cleanup-flag')) req.needCleanup = true;
    return ret;
  }
}
