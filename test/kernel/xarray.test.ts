import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XArray } from '../../designs/kernel/xarray.js';

describe('xarray', () => {
  it('keeps a lone entry at index 0 in the head, with no node', () => {
    const xa = new XArray<string>();
    xa.store(0, 'a');
    assert.equal(xa.height, 0);
    assert.equal(xa.nodeCount, 0);
    assert.equal(xa.load(0), 'a');
  });

  it('needs one level up to 63, two up to 4095 and three up to 65535', () => {
    for (const [index, height] of [
      [1, 1],
      [63, 1],
      [64, 2],
      [4095, 2],
      [4096, 3],
      [65535, 3],
    ] as const) {
      const xa = new XArray<number>();
      xa.store(index, index);
      assert.equal(xa.height, height, `index ${index}`);
      assert.equal(xa.nodeCount, height, `one node per level for index ${index}`);
      assert.equal(xa.load(index), index);
      assert.equal(xa.levelsFor(index), height);
    }
  });

  it('counts 64-slot nodes as entries spread out', () => {
    const xa = new XArray<number>();
    for (let i = 0; i < 64; i++) xa.store(i, i);
    assert.equal(xa.nodeCount, 1);
    xa.store(64, 64);
    assert.equal(xa.nodeCount, 3, 'a new root above two leaves');
    assert.equal(xa.size, 65);
  });

  it('returns undefined for absent and out-of-range indices', () => {
    const xa = new XArray<number>();
    xa.store(5, 5);
    assert.equal(xa.load(6), undefined);
    assert.equal(xa.load(100_000), undefined);
    assert.equal(xa.levelsFor(100_000), 0);
  });

  it('frees empty nodes and shrinks back on erase', () => {
    const xa = new XArray<number>();
    xa.store(0, 0);
    xa.store(5000, 5000);
    assert.equal(xa.height, 3);
    assert.equal(xa.erase(5000), 5000);
    assert.equal(xa.height, 0, 'only index 0 is left, back in the head');
    assert.equal(xa.nodeCount, 0);
    assert.equal(xa.load(0), 0);
    assert.equal(xa.erase(0), 0);
    assert.equal(xa.size, 0);
    assert.equal(xa.erase(0), undefined);
  });

  it('iterates present entries in index order', () => {
    const xa = new XArray<number>();
    for (const i of [4096, 3, 70, 0]) xa.store(i, i * 2);
    assert.deepEqual(
      [...xa],
      [
        [0, 0],
        [3, 6],
        [70, 140],
        [4096, 8192],
      ],
    );
  });

  it('allocates cyclically, wraps, and fails with EBUSY when full', () => {
    const xa = new XArray<string>();
    assert.deepEqual(xa.allocCyclic('a', 0, 3), { ok: true, value: 0 });
    assert.deepEqual(xa.allocCyclic('b', 0, 3), { ok: true, value: 1 });
    xa.erase(0);
    assert.deepEqual(xa.allocCyclic('c', 0, 3), { ok: true, value: 2 }, 'does not reuse 0 at once');
    assert.deepEqual(xa.allocCyclic('d', 0, 3), { ok: true, value: 3 });
    assert.deepEqual(xa.allocCyclic('e', 0, 3), { ok: true, value: 0 }, 'wraps to the freed id');
    assert.deepEqual(xa.allocCyclic('f', 0, 3), { ok: false, errno: 'EBUSY' });
  });
});
