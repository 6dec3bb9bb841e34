import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { structSizes } from '../../bench/lanes/memory.js';
import { parseBtf, readKernelBtf } from '../../lib/btf.js';
import { btfBlob, btfFromWords } from './btf-blob.js';

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

  it('finds member offsets through nested and anonymous members', () => {
    assert.ok(kernel.ok);
    assert.equal(kernel.btf.offsetOf('list_head', 'prev'), 8);
    // io_uring_sqe's op flags sit in an anonymous union at byte 28, user_data at 32.
    assert.equal(kernel.btf.offsetOf('io_uring_sqe', 'nop_flags'), 28);
    assert.equal(kernel.btf.offsetOf('io_uring_sqe', 'user_data'), 32);
    assert.deepEqual(kernel.btf.members('list_head'), ['next', 'prev']);
    const ud = kernel.btf.offsetOf('io_kiocb', 'cqe.user_data');
    assert.ok(ud !== undefined && ud > 0 && ud % 8 === 0, String(ud));
    assert.equal(kernel.btf.offsetOf('io_kiocb', 'cqe.no_such_member'), undefined);
  });

  it('finds the typedef a tp_btf program attaches to, by name', () => {
    assert.ok(kernel.ok);
    const id = kernel.btf.typedefId('btf_trace_io_uring_submit_req');
    assert.ok(id !== undefined && id > 0 && id <= kernel.btf.count, String(id));
    assert.notEqual(kernel.btf.typedefId('btf_trace_io_uring_file_get'), id);
    // A struct is not a typedef.
    assert.equal(kernel.btf.typedefId('list_head'), undefined);
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

  it('reads a hand-made BTF blob with one struct and its members', () => {
    // one STRUCT record with two members (12 + 2 * 12)
    const { buf, done } = btfBlob(12 + 24, '\0foo\0a\0b\0');
    buf.writeUInt32LE(1, 24); // name_off -> "foo"
    buf.writeUInt32LE((4 << 24) | 2, 28); // kind STRUCT, vlen 2
    buf.writeUInt32LE(40, 32); // size
    for (const [i, [name, bits]] of [
      [5, 0],
      [7, 64],
    ].entries()) {
      buf.writeUInt32LE(name as number, 36 + i * 12); // "a", "b"
      buf.writeUInt32LE(0, 40 + i * 12); // type: void, enough here
      buf.writeUInt32LE(bits as number, 44 + i * 12);
    }
    const btf = done();
    assert.equal(btf.sizeOf('foo'), 40);
    assert.equal(btf.count, 1);
    assert.deepEqual(btf.members('foo'), ['a', 'b']);
    assert.equal(btf.offsetOf('foo', 'b'), 8);
    assert.equal(btf.offsetOf('bar', 'b'), undefined);
    assert.equal(btf.typedefId('foo'), undefined);
  });

  it('numbers typedefs by their position, from 1', () => {
    // Two records: STRUCT "s" (no members), then TYPEDEF "t" -> 1.
    const { buf, done } = btfBlob(12 + 12, '\0s\0t\0');
    buf.writeUInt32LE(1, 24); // "s"
    buf.writeUInt32LE(4 << 24, 28); // STRUCT, vlen 0
    buf.writeUInt32LE(0, 32);
    buf.writeUInt32LE(3, 36); // "t"
    buf.writeUInt32LE(8 << 24, 40); // TYPEDEF
    buf.writeUInt32LE(1, 44); // -> type 1
    const btf = done();
    assert.equal(btf.typedefId('t'), 2);
    assert.equal(btf.typedefId('s'), undefined);
    // Structs are numbered the same way (a struct_ops attach_btf_id); a typedef is not a struct.
    assert.equal(btf.structId('s'), 1);
    assert.equal(btf.structId('t'), undefined);
  });

  it('gives function prototypes as libbpf compares kfuncs: a forward declaration is not the struct', () => {
    // BTF kinds in the top byte of a record's info word.
    const INT = 1 << 24;
    const PTR = 2 << 24;
    const STRUCT = 4 << 24;
    const FWD = 7 << 24;
    const TYPEDEF = 8 << 24;
    const FUNC = 12 << 24;
    const PROTO = 13 << 24;
    const btf = btfFromWords(
      [
        ...[1, INT, 4, 32], // 1 INT "int", 32 bits
        ...[5, STRUCT, 8], // 2 STRUCT "d", no members
        ...[5, FWD, 0], // 3 FWD "d"
        ...[0, PTR, 2], // 4 PTR -> 2
        ...[0, PTR, 3], // 5 PTR -> 3
        ...[0, PROTO | 2, 0, 0, 4, 0, 1], // 6 FUNC_PROTO void (4, 1)
        ...[7, FUNC | 2, 6], // 7 FUNC "k" -> 6, extern
        ...[0, PROTO | 2, 0, 0, 5, 0, 1], // 8 FUNC_PROTO void (5, 1)
        ...[9, FUNC | 1, 8], // 9 FUNC "j" -> 8, global
        ...[11, TYPEDEF, 4], // 10 TYPEDEF "t" -> 4
        ...[0, PROTO | 1, 1, 0, 10], // 11 FUNC_PROTO int (10)
        ...[13, FUNC | 2, 11], // 12 FUNC "m" -> 11, extern
      ],
      '\0int\0d\0k\0j\0t\0m\0',
    );
    assert.deepEqual(btf.funcSignature('k'), { ret: 'void', params: ['ptr struct', 'int'] });
    assert.deepEqual(btf.funcSignature('j'), { ret: 'void', params: ['ptr fwd', 'int'] });
    // Typedefs are looked through, as libbpf does.
    assert.deepEqual(btf.funcSignature('m'), { ret: 'int', params: ['ptr struct'] });
    assert.equal(btf.funcSignature('d'), undefined);
    assert.deepEqual(btf.externFuncs(), ['k', 'm']);
  });
});
