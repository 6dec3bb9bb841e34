import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type MemoryParams, STRUCT_SIZES, xarrayNodesFor } from '../designs/memory.js';
import { DESIGNS, findDesign } from '../designs/registry.js';

const base: MemoryParams = { rings: 100, programs: 4, threadsPerProcess: 1, sharing: 'shared' };

function memoryOf(name: string, p: MemoryParams) {
  const found = findDesign(name);
  assert.ok(found.ok);
  return found.design.memory(p, STRUCT_SIZES);
}

describe('memory accounting', () => {
  it('gives every design a breakdown whose items add up and name their source', () => {
    for (const d of DESIGNS) {
      const m = d.memory(base, STRUCT_SIZES);
      assert.equal(
        m.bytes,
        m.items.reduce((s, i) => s + i.count * i.bytesEach, 0),
        d.name,
      );
      for (const item of m.items) assert.ok(item.source.length > 0, `${d.name} ${item.structure}`);
    }
  });

  it('charges per-ctx one struct_ops map per ring and op even when programs are shared', () => {
    const m = memoryOf('per-ctx', base);
    const extra = m.items.find((i) => i.structure.startsWith('bpf_struct_ops_map'));
    assert.equal(extra?.count, 100 * 4 - 4);
    const own = memoryOf('per-ctx', { ...base, sharing: 'per-ring' });
    assert.equal(
      own.items.find((i) => i.structure.startsWith('bpf_struct_ops_map')),
      undefined,
      'no extra maps when every ring has its own programs anyway',
    );
  });

  it('says when a configuration cannot be registered at all', () => {
    assert.match(
      memoryOf('global-array', { ...base, sharing: 'per-ring' }).doesNotFit ?? '',
      /400 registrations/,
    );
    assert.equal(memoryOf('global-array', base).doesNotFit, null);
    assert.match(
      memoryOf('per-ctx', { ...base, programs: 17 }).doesNotFit ?? '',
      /exceed the 16 slots/,
    );
  });

  it('counts xarray nodes from the real tree', () => {
    assert.equal(xarrayNodesFor(256, 1), 2, 'id 256 needs a root and one leaf');
    assert.equal(xarrayNodesFor(256, 64), 2, '256..319 fills exactly one leaf');
    assert.equal(xarrayNodesFor(256, 65), 3, '256..320 spans two leaves');
    assert.equal(xarrayNodesFor(0, 4097), 1 + 2 + 65, 'root, two mid nodes, 65 leaves');
  });

  it('keeps per-fd fd costs per process: threads of one process share the table', () => {
    const oneEach = memoryOf('per-fd', base).bytes;
    const fourThreads = memoryOf('per-fd', { ...base, threadsPerProcess: 4 }).bytes;
    assert.equal(fourThreads * 4, oneEach);
  });
});
