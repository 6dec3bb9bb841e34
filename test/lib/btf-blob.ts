// Hand-made BTF for tests: the 24-byte header (include/uapi/linux/btf.h),
// a type section the caller writes, and a string section.

import { type BtfTypes, parseBtf } from '../../lib/btf.js';

/**
 * A BTF blob: the 24-byte header, `typesLen` bytes of type records for the
 * caller to write from offset 24, then `strings`; done() parses it.
 */
export function btfBlob(typesLen: number, strings: string) {
  const str = Buffer.from(strings, 'latin1');
  const buf = Buffer.alloc(24 + typesLen + str.length);
  buf.writeUInt16LE(0xeb9f, 0); // magic
  buf.writeUInt8(1, 2); // version
  buf.writeUInt32LE(24, 4); // hdr_len
  buf.writeUInt32LE(0, 8); // type_off
  buf.writeUInt32LE(typesLen, 12); // type_len
  buf.writeUInt32LE(typesLen, 16); // str_off
  buf.writeUInt32LE(str.length, 20); // str_len
  return {
    buf,
    done: () => {
      str.copy(buf, 24 + typesLen);
      return parseBtf(buf);
    },
  };
}

/** Parsed BTF whose type section is `words` (little-endian u32s) and string section `strings`. */
export function btfFromWords(words: readonly number[], strings: string): BtfTypes {
  const { buf, done } = btfBlob(words.length * 4, strings);
  words.forEach((w, i) => {
    buf.writeUInt32LE(w >>> 0, 24 + i * 4);
  });
  return done();
}
