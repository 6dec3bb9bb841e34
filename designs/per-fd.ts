// D4 per-fd: Stefan Metzmacher's and Caleb Sander Mateos's proposal
// (94f94f0e-7086-4f44-a658-9cb3b5496faf@samba.org,
// CADUfDZqpTSihuYnTqUbtctrX4OGT7Szr-_wWb4xLgg11RcwYkA@mail.gmail.com).
// No registry: the SQE's fd names a loaded program in the submitter's fd
// table, looked up with fget (RCU + an atomic file reference) as
// SIOCKCMATTACH does with bpf_prog_get_type(). The request holds the file
// until it is freed, so close() during flight is safe. Sharing is SCM_RIGHTS.
// "Unregister" is close(); the program goes with its last reference.

import { CachedOps } from './cached-ops.js';
import type { DesignDef, DesignOps, ProgramName } from './design.js';
import { fail, neg, ok } from './kernel/errno.js';
import { at, type Op } from './kernel/step.js';
import { breakdown, processes } from './memory.js';
import type { Request, Sqe, World } from './world.js';

/** fget(sqe->fd) in the submitter's table, then the shared cached-ops prep. */
export function* prepFromFd(cached: CachedOps, req: Request): Op<number> {
  yield* at(`fget(${req.sqe.fd})`);
  const file = req.submitter.fds.fget(req.sqe.fd);
  if (file === undefined) return neg('EBADF');
  req.file = file;
  return yield* cached.prepFromFile(req, file);
}

/** The SQE fields for a program named by a plain fd or a fixed-file slot. */
export function fdTarget(name: ProgramName): Pick<Sqe, 'bpfOpFlags' | 'fd' | 'fixedFile'> {
  if (name.kind === 'fd') return { bpfOpFlags: 0, fd: name.fd, fixedFile: false };
  if (name.kind === 'fixed') return { bpfOpFlags: 0, fd: name.index, fixedFile: true };
  throw new Error(`BUG: fd designs name programs by fd or slot, not ${name.kind}`);
}

function create(world: World): DesignOps {
  const cached = new CachedOps(world);
  return {
    *ringCreated(ring) {
      // No setup flag exists for this design: the kernel rejects unknown flags.
      return ring.bpf ? fail('EINVAL') : ok(undefined);
    },
    *ringFreed() {},
    prep: (req) => prepFromFd(cached, req),
    issue: (req, unlocked) => cached.issue(req, unlocked),
    fail: (req) => cached.fail(req),
    cleanup: (req) => cached.cleanup(req),
    // Nothing to register: the fd the program was loaded (or received) at is its name.
    *register(_proc, args) {
      return ok({ name: { kind: 'fd', fd: args.progFd }, linkFd: null, ringFd: null });
    },
    *unregister(proc, reg) {
      if (reg.name.kind !== 'fd') return fail('EINVAL');
      return yield* world.close(proc, reg.name.fd);
    },
    discover: null,
    target: fdTarget,
  };
}

export const perFd: DesignDef = {
  id: 'per-fd',
  variant: null,
  name: 'per-fd',
  title: "The program's file descriptor",
  sources: [
    '94f94f0e-7086-4f44-a658-9cb3b5496faf@samba.org',
    'CADUfDZqpTSihuYnTqUbtctrX4OGT7Szr-_wWb4xLgg11RcwYkA@mail.gmail.com',
  ],
  scope: 'process',
  setupFlag: null,
  nameKind: 'fd',
  idRange: null,
  sqeEncoding:
    'sqe->fd is the program fd in the submitter; the request protocol is v2/v3 (cached-ops)',
  change: '',
  create,
  memory: (p, sizes) =>
    breakdown(sizes, [
      // Each process keeps an fd per program it uses; shared programs arrive by SCM_RIGHTS (one struct file).
      [
        'pointer',
        p.sharing === 'shared' ? processes(p) * p.programs : p.rings * p.programs,
        'fd table slot',
      ],
    ]),
};
