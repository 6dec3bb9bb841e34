// D5 per-fd-fixed: Caleb Sander Mateos's refinement
// (CADUfDZonj-mn9oOF-cGgw2TS9Emmk0vP=3=+n0bJbhGw43ra3A@mail.gmail.com):
// the program fd goes into the ring's fixed-file table
// (IORING_REGISTER_FILES_UPDATE) and the SQE sets IOSQE_FIXED_FILE with the
// slot index. Lookup is a bounds check, an array index and a plain refs++ on
// the slot's resource node under uring_lock, exactly io_uring's fixed files.
// Replacing or clearing the slot retires the node; requests in flight keep
// it (and so the program) alive. Without IOSQE_FIXED_FILE the SQE's fd is a
// plain fd, as in per-fd.

import { CachedOps } from './cached-ops.js';
import type { DesignDef, DesignOps } from './design.js';
import { fail, neg, ok, type Result } from './kernel/errno.js';
import { FixedFileTable, RsrcNode } from './kernel/fixed-files.js';
import { at } from './kernel/step.js';
import { breakdown } from './memory.js';
import { fdTarget, prepFromFd } from './per-fd.js';
import { fgetRing, type World } from './world.js';

/** Slots of the sparse table registered on first use (IORING_REGISTER_FILES_SPARSE). */
export const FIXED_FILE_SLOTS = 64;

function create(world: World): DesignOps {
  const cached = new CachedOps(world);
  return {
    *ringCreated(ring) {
      return ring.bpf ? fail('EINVAL') : ok(undefined);
    },
    *ringFreed() {},

    *prep(req) {
      if (!req.sqe.fixedFile) return yield* prepFromFd(cached, req);
      yield* at(`io_file_get_fixed(${req.sqe.fd})`);
      // uring_lock is held: the node's refs is a plain int.
      const node = req.ring.fixedFiles?.get(req.sqe.fd) ?? null;
      if (node === null) return neg('EBADF');
      // Planted bug (rsrc-node-no-ref): the request uses the node without a reference.
      if (!world.trace.mutations.has('rsrc-node-no-ref')) node.refs.get();
      req.rsrcNode = node;
      return yield* cached.prepFromFile(req, node.file);
    },

    issue: (req, unlocked) => cached.issue(req, unlocked),
    fail: (req) => cached.fail(req),
    cleanup: (req) => cached.cleanup(req),

    /**
     * IORING_REGISTER_FILES_UPDATE of `progFd` into slot `id` (or, for no id
     * or -1, the first free slot) of `ringFd`'s table, registering a sparse
     * table first if the ring has none, as a liburing caller would.
     */
    *register(proc, args) {
      yield* at('io_uring_register(FILES_UPDATE)');
      const ringFd = args.ringFd ?? -1;
      const found = fgetRing(world, proc, ringFd);
      if (!found.ok) return found;
      const { ring, file: ringFile } = found.value;
      yield* ring.uringLock.lock();
      ring.fixedFiles ??= new FixedFileTable(ring.id, FIXED_FILE_SLOTS, world.trace);
      const table = ring.fixedFiles;
      // No id, or -1 (IORING_FILE_INDEX_ALLOC, ~0U): the first free slot.
      const alloc = args.id === undefined || args.id === -1;
      const index = alloc ? (table.freeSlots()[0] ?? -1) : (args.id ?? -1);
      let result: Result<number> = fail('EINVAL');
      if (alloc && index === -1) result = fail('ENFILE');
      else if (Number.isInteger(index) && index >= 0 && index < table.size) {
        const file = proc.fds.fget(args.progFd);
        if (file === undefined) result = fail('EBADF');
        else if (file.payload.kind === 'io_uring') {
          world.fput(file);
          result = fail('EBADF');
        } else {
          const programId = file.payload.kind === 'bpf-prog' ? file.payload.program.id : null;
          table.set(
            index,
            new RsrcNode(file, `ring#${ring.id}.node[${index}]`, programId, world.trace, () =>
              world.fput(file),
            ),
          );
          result = ok(index);
        }
      }
      yield* ring.uringLock.unlock();
      world.fput(ringFile);
      if (!result.ok) return result;
      return ok({ name: { kind: 'fixed', index: result.value }, linkFd: null, ringFd });
    },

    /** IORING_REGISTER_FILES_UPDATE with -1: clears the slot (an empty slot is not an error). */
    *unregister(proc, reg) {
      yield* at('io_uring_register(FILES_UPDATE, -1)');
      if (reg.name.kind !== 'fixed') return fail('EINVAL');
      const found = fgetRing(world, proc, reg.ringFd ?? -1);
      if (!found.ok) return found;
      const { ring, file: ringFile } = found.value;
      yield* ring.uringLock.lock();
      const table = ring.fixedFiles;
      const index = reg.name.index;
      let result: Result<void> = fail('ENXIO');
      if (table !== null) {
        result = index >= 0 && index < table.size ? ok(undefined) : fail('EINVAL');
        if (result.ok) table.set(index, null);
      }
      yield* ring.uringLock.unlock();
      world.fput(ringFile);
      return result;
    },

    discover: null,
    target: fdTarget,
  };
}

export const perFdFixed: DesignDef = {
  id: 'per-fd-fixed',
  variant: null,
  name: 'per-fd-fixed',
  title: "The program fd in the ring's fixed-file table",
  sources: ['CADUfDZonj-mn9oOF-cGgw2TS9Emmk0vP=3=+n0bJbhGw43ra3A@mail.gmail.com'],
  scope: 'ring',
  setupFlag: null,
  nameKind: 'fixed',
  idRange: { min: 0, max: FIXED_FILE_SLOTS - 1 },
  sqeEncoding:
    'IOSQE_FIXED_FILE with sqe->fd the slot index; the request protocol is v2/v3 (cached-ops)',
  change: '',
  create,
  memory: (p, sizes) =>
    breakdown(
      sizes,
      [
        ['pointer', p.rings * p.programs, 'file table slot'],
        ['io_rsrc_node', p.rings * p.programs],
        ['pointer', p.rings * Math.ceil(p.programs / 64), 'file table bitmap word'],
      ],
      null,
    ),
};
