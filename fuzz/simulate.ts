// Runs one scenario on one design: processes and their rings are set up
// first, then every actor's protocol runs under the scheduler, interleaved
// as the scenario's choices say. What comes back is everything the
// properties need: the machine (trace, world), the fuzz log, the outcome.

import type { DesignDef } from '../designs/design.js';
import type { Op } from '../designs/kernel/step.js';
import { Machine } from '../designs/machine.js';
import type { Outcome } from '../designs/scheduler.js';
import { FuzzLog, PROTOCOL_OPS, ProcessExited } from './protocols.js';
import { processCreds, ringAddress, ringBuffers, ringOptions, type Scenario } from './scenario.js';

/** Steps after which a run is cut off (reported as a step-limit outcome). */
export const MAX_STEPS = 20_000;

export interface Observation {
  readonly m: Machine;
  readonly log: FuzzLog;
  readonly outcome: Outcome;
}

/** Runs a protocol until it ends or its process exits (exit_group ends every thread). */
function* untilExit(op: Op<void>): Op<void> {
  try {
    yield* op;
  } catch (e) {
    if (!(e instanceof ProcessExited)) throw e;
  }
}

/** Runs `scenario` on `design` with the planted bugs `mutations` switched on. */
export function simulate(
  design: DesignDef,
  scenario: Scenario,
  mutations: readonly string[] = [],
  maxSteps = MAX_STEPS,
): Observation {
  const m = new Machine(design);
  m.world.trace.mutations = new Set(mutations);
  const log = new FuzzLog();
  const procs = scenario.processes.map((p, i) => {
    const proc = m.world.createProcess({
      name: `p${i}${p.ns === 1 ? '-hostile' : ''}`,
      ns: p.ns,
      creds: processCreds(p),
    });
    log.teams.set(proc.pid, p.team);
    return proc;
  });
  // Each process's rings (one unless its plan says more), each at its order key.
  const rings = procs.map((proc, i) => {
    const plan = scenario.processes[i];
    const count = Math.max(1, Math.min(3, plan?.rings ?? 1));
    return Array.from({ length: count }, (_, index) => {
      const id = m.world.rings.length + 1;
      const extra =
        count === 1 ? {} : { address: ringAddress(plan, index, id), buffers: ringBuffers(index) };
      const r = m.run(proc, m.uring.setup(proc, { ...ringOptions(design, plan), ...extra }));
      if (!r.ok) throw new Error(`fuzz setup: io_uring_setup failed with ${r.errno}`);
      return r.value;
    });
  });
  scenario.actors.forEach((plan, i) => {
    const proc = procs[plan.process];
    const ownRings = rings[plan.process] ?? [];
    const ringFd = ownRings[(plan.ring ?? 0) % Math.max(1, ownRings.length)];
    if (proc === undefined || ringFd === undefined)
      throw new Error(`fuzz scenario: actor ${i} names process ${plan.process}`);
    const actor = `a${i}:${plan.protocol}`;
    const env = {
      m,
      design,
      proc,
      ringFd,
      plan,
      log,
      actor,
      peers: procs,
      processPlans: scenario.processes,
      rings: ownRings,
      peerRings: rings,
    };
    m.scheduler.add(actor, untilExit(PROTOCOL_OPS[plan.protocol](env)), proc);
  });
  const outcome = m.scheduler.runPriorities(scenario.priorities, scenario.changes, maxSteps);
  return { m, log, outcome };
}
