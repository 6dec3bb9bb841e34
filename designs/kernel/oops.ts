// A kernel oops: the kernel dereferenced NULL. The task that did it dies on
// the spot (the oops handler ends in do_exit()): the operation goes no
// further, the locks it held stay held, and its task work never runs. The
// scheduler catches KernelOops and retires the actor; the trace keeps a
// null-deref event, which the `crash` property reports.

import type { Trace } from './trace.js';

export class KernelOops extends Error {
  constructor(readonly where: string) {
    super(`kernel NULL pointer dereference in ${where}`);
  }
}

/** Records a NULL dereference at `where` and kills the running task. */
export function oops(trace: Trace, where: string): never {
  trace.emit({ kind: 'null-deref', where });
  throw new KernelOops(where);
}
