// Attaching a struct_ops map through a bpf_link (kernel/bpf/bpf_struct_ops.c),
// shared by every design that registers with ->reg()/->unreg(): the link is
// created in the attaching process, ->reg() runs in that process's context,
// and ->unreg() runs once, on BPF_LINK_DETACH or when the last reference to
// the link file goes (process exit included) -- in the context of whoever
// drops it. ->unreg() returns void: its errors never reach userspace.

import { fail, fromRet, ok, type Result } from './kernel/errno.js';
import { at, type Op } from './kernel/step.js';
import type { Process, Program, World } from './world.js';

export interface StructOpsHooks {
  /** ->reg(): 0 or a negative errno; runs in the attaching process. */
  reg(program: Program): Op<number>;
  /** ->unreg(): runs once when the link goes. */
  unreg(program: Program): Op<void>;
}

/** BPF_LINK_CREATE for the struct_ops map at `progFd`; returns the link fd. */
export function* attachStructOps(
  world: World,
  proc: Process,
  progFd: number,
  hooks: StructOpsHooks,
): Op<Result<number>> {
  yield* at(`bpf_link_create(${progFd})`);
  const file = proc.fds.fget(progFd);
  if (file === undefined) return fail('EBADF');
  if (file.payload.kind !== 'bpf-prog') {
    world.fput(file);
    return fail('EINVAL');
  }
  const program = file.payload.program;
  const ret = fromRet(yield* hooks.reg(program));
  if (!ret.ok) {
    world.fput(file);
    return ret;
  }
  program.refs.get(); // the link's map reference (bpf_map_inc)
  world.fput(file);
  return yield* world.installFd(
    proc,
    world.newLink(program, () => hooks.unreg(program)),
  );
}

/**
 * BPF_LINK_DETACH: ->unreg() now, unless the link was already detached
 * (then a no-op, 0). bpf_struct_ops_map_link_detach() holds update_mutex
 * across ->unreg(); the link's last close (bpf_struct_ops_map_link_dealloc(),
 * World.newLink's release) calls ->unreg() without it.
 */
export function* detachStructOps(
  world: World,
  proc: Process,
  linkFd: number | null,
): Op<Result<void>> {
  yield* at(`bpf_link_detach(${linkFd ?? -1})`);
  const file = linkFd === null ? undefined : proc.fds.fget(linkFd);
  if (file === undefined) return fail('EBADF');
  if (file.payload.kind !== 'bpf-link') {
    world.fput(file);
    return fail('EINVAL');
  }
  // bpf_struct_ops_map_link_detach(): ->unreg() under the global update_mutex.
  yield* world.updateMutex.lock();
  yield* world.detachLink(file.payload.link);
  yield* world.updateMutex.unlock();
  world.fput(file);
  return ok(undefined);
}
