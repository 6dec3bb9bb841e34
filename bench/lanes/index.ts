// The one list of lanes, in the order they run. Adding a lane is one file
// and one line here.

import type { Lane } from '../lane.js';
import { bpfLane } from './bpf.js';
import { fuzzLane } from './fuzz.js';
import { kernelLane } from './kernel.js';
import { memoryLane } from './memory.js';
import { modelLane } from './model.js';
import { nativeLane } from './native.js';
import { patchedLane } from './patched.js';
import { registrationLane } from './registration.js';

export const LANES: readonly Lane[] = [
  kernelLane,
  patchedLane,
  bpfLane,
  nativeLane,
  registrationLane,
  modelLane,
  memoryLane,
  fuzzLane,
];
