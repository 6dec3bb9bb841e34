import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DESIGNS, findDesign, POSTED_DESIGNS } from '../designs/registry.js';

describe('design registry', () => {
  it('lists the six designs of DESIGN.md section 4, each once as posted', () => {
    assert.deepEqual(
      POSTED_DESIGNS.map((d) => d.id),
      ['global-array', 'array-xarray', 'per-ctx', 'per-fd', 'per-fd-fixed', 'global-alloc'],
    );
  });

  it('names variants id+variant and says what each changes', () => {
    for (const d of DESIGNS) {
      assert.equal(d.name, d.variant === null ? d.id : `${d.id}+${d.variant}`);
      assert.equal(d.change === '', d.variant === null, `${d.name} change text`);
    }
    assert.equal(new Set(DESIGNS.map((d) => d.name)).size, DESIGNS.length, 'names are unique');
  });

  it('cites a Message-ID for every design but the control', () => {
    for (const d of DESIGNS) {
      assert.equal(d.sources.length > 0, d.id !== 'global-alloc', d.name);
      for (const s of d.sources) assert.match(s, /@/, `${d.name}: ${s} is a Message-ID`);
    }
  });

  it('finds a design by name and names the known ones for an unknown name', () => {
    const found = findDesign('per-ctx+unregistering-bit');
    assert.ok(found.ok && found.design.variant === 'unregistering-bit');
    const missing = findDesign('per-ring');
    assert.ok(!missing.ok);
    assert.match(missing.message, /^unknown design 'per-ring' \(known: global-array, /);
  });
});
