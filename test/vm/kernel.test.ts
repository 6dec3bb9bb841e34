// The kernel `npm run vm -- kernel` builds: the config fragments kept in
// vm/, what must survive olddefconfig, and the cache key.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { cacheRoot } from '../../vm/cache.js';
import {
  BASE_FRAGMENT,
  DEBUG_FRAGMENT,
  fragmentOptions,
  kernelKey,
  missingOptions,
} from '../../vm/kernel.js';
import type { Patch } from '../../vm/series.js';
import type { KernelSource } from '../../vm/source.js';

const base = fragmentOptions([readFileSync(BASE_FRAGMENT, 'utf8')]);
const required = (name: string) => base.find((o) => o.name === name)?.required;

describe('kernel config fragments', () => {
  it('require what the guest and the suite need to run at all', () => {
    for (const name of [
      'CONFIG_IO_URING',
      'CONFIG_BPF_SYSCALL',
      'CONFIG_BPF_JIT',
      'CONFIG_DEBUG_INFO_BTF',
      'CONFIG_9P_FS',
      'CONFIG_NET_9P_VIRTIO',
      'CONFIG_VIRTIO_PCI',
      'CONFIG_OVERLAY_FS',
      'CONFIG_DEVTMPFS',
      'CONFIG_TMPFS',
      'CONFIG_SERIAL_8250_CONSOLE',
      'CONFIG_PRINTK_TIME',
      'CONFIG_MAGIC_SYSRQ',
      // ACPI: without it the guest sees one CPU whatever -smp says.
      'CONFIG_ACPI',
      'CONFIG_BPF_EVENTS',
    ])
      assert.equal(required(name), true, name);
  });

  it('keep the series options optional, so a stock tree still builds', () => {
    for (const name of ['CONFIG_IO_URING_BPF_OP', 'CONFIG_IO_URING_BPF_EXT', 'CONFIG_IO_URING_BPF'])
      assert.equal(required(name), false, name);
  });

  it('merge as merge_config.sh does: the debug fragment overrides the base', () => {
    const merged = fragmentOptions([
      readFileSync(BASE_FRAGMENT, 'utf8'),
      readFileSync(DEBUG_FRAGMENT, 'utf8'),
    ]);
    const timeouts = merged.filter((o) => o.name === 'CONFIG_DEFAULT_HUNG_TASK_TIMEOUT');
    assert.deepEqual(
      timeouts.map((o) => o.value),
      ['20'],
    );
    // tinyconfig's SLUB_TINY would drop KASAN: the debug fragment turns it off.
    assert.match(readFileSync(DEBUG_FRAGMENT, 'utf8'), /^# CONFIG_SLUB_TINY is not set$/m);
  });

  it('add KASAN, lockdep and a short hung-task timeout in the debug fragment', () => {
    const debug = fragmentOptions([readFileSync(DEBUG_FRAGMENT, 'utf8')]);
    const value = (n: string) => debug.find((o) => o.name === n)?.value;
    assert.equal(value('CONFIG_KASAN'), 'y');
    assert.equal(value('CONFIG_PROVE_LOCKING'), 'y');
    assert.equal(value('CONFIG_DETECT_HUNG_TASK'), 'y');
    assert.ok(Number(value('CONFIG_DEFAULT_HUNG_TASK_TIMEOUT')) <= 30);
  });

  it('name every required option olddefconfig dropped, with the usual cause for BTF', () => {
    const options = fragmentOptions([
      'CONFIG_A=y\nCONFIG_DEBUG_INFO_BTF=y\n# optional\nCONFIG_B=y\n',
    ]);
    assert.equal(missingOptions('CONFIG_A=y\nCONFIG_DEBUG_INFO_BTF=y\n', options), null);
    assert.equal(
      missingOptions('CONFIG_A=y\n# CONFIG_DEBUG_INFO_BTF is not set\n', options),
      'CONFIG_DEBUG_INFO_BTF=y did not survive olddefconfig (DEBUG_INFO_BTF needs pahole 1.16 or newer: Debian package dwarves)',
    );
    assert.match(
      missingOptions('CONFIG_DEBUG_INFO_BTF=y\n', options) ?? '',
      /^CONFIG_A=y did not survive/,
    );
  });
});

describe('kernel cache', () => {
  const source: KernelSource = { kind: 'tarball', path: '/x.tar.xz', id: 'a'.repeat(64) };
  const patch: Patch = { name: '0001.patch', subject: 'x', text: 'diff' };

  it('keys an entry by source, series and fragments, and nothing else', () => {
    const k = kernelKey({ source, series: [], fragments: [BASE_FRAGMENT] });
    assert.match(k, /^[0-9a-f]{16}$/);
    assert.equal(
      kernelKey({
        source: { ...source, path: '/elsewhere.tar.xz' },
        series: [],
        fragments: [BASE_FRAGMENT],
      }),
      k,
    );
    assert.notEqual(
      kernelKey({
        source: { ...source, id: 'b'.repeat(64) },
        series: [],
        fragments: [BASE_FRAGMENT],
      }),
      k,
    );
    assert.notEqual(kernelKey({ source, series: [patch], fragments: [BASE_FRAGMENT] }), k);
    assert.notEqual(
      kernelKey({ source, series: [], fragments: [BASE_FRAGMENT, DEBUG_FRAGMENT] }),
      k,
    );
  });

  it('lives outside the clone: $IOU_CACHE, else $XDG_CACHE_HOME, else ~/.cache', () => {
    assert.equal(cacheRoot({ IOU_CACHE: '/c' }), '/c');
    assert.equal(cacheRoot({ XDG_CACHE_HOME: '/x' }), '/x/iou-dispatch');
    assert.match(cacheRoot({}), /\/\.cache\/iou-dispatch$/);
  });
});
