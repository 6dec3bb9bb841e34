import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBtf, readKernelBtf } from '../../bench/btf.js';
import { structSizes } from '../../bench/lanes/memory.js';

const kernel = readKernelBtf();

describe('BTF of the running kernel', { skip: kernel.ok ? false : kernel.reason }, () => {
  it('gives the sizes of structs every 64-bit kernel has', () => {
    assert.ok(kernel.ok);
    assert.equal(kernel.btf.sizeOf('list_head'), 16);
    assert.equal(kernel.btf.sizeOf('xa_node'), 576);
    assert.equal(kernel.btf.sizeOf('callback_head'), 16);
    assert.ok(kernel.btf.count > 1000);
    assert.equal(kernel.btf.has('no_such_struct_anywhere'), false);
  });

  it('feeds the memory lane, which says which sizes came from BTF', () => {
    const s = structSizes();
    assert.equal(s.btf, 'read');
    assert.equal(s.from.xa_node, 'btf');
    assert.equal(s.from.pointer, 'constant');
  });
});

describe('BTF parser', () => {
  it('rejects data that is not BTF with one line', () => {
    assert.throws(() => parseBtf(Buffer.alloc(10)), /BTF too short/);
    assert.throws(() => parseBtf(Buffer.alloc(64)), /not BTF \(magic 0x0/);
  });

  it('reads a hand-made BTF blob with one struct', () => {
    // header (24) + one STRUCT record with no members (12) + strings "\0foo\0".
    const strings = Buffer.from('\0foo\0', 'latin1');
    const buf = Buffer.alloc(24 + 12 + strings.length);
    buf.writeUInt16LE(0xeb9f, 0);
    buf.writeUInt8(1, 2);
    buf.writeUInt32LE(24, 4); // hdr_len
    buf.writeUInt32LE(0, 8); // type_off
    buf.writeUInt32LE(12, 12); // type_len
    buf.writeUInt32LE(12, 16); // str_off
    buf.writeUInt32LE(strings.length, 20);
    buf.writeUInt32LE(1, 24); // name_off -> "foo"
    buf.writeUInt32LE(4 << 24, 28); // kind STRUCT, vlen 0
    buf.writeUInt32LE(40, 32); // size
    strings.copy(buf, 36);
    const btf = parseBtf(buf);
    assert.equal(btf.sizeOf('foo'), 40);
    assert.equal(btf.count, 1);
  });
});
