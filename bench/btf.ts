// A reader for the kernel's BTF (/sys/kernel/btf/vmlinux), enough to find
// struct sizes and whether a type exists by name. Layout from
// include/uapi/linux/btf.h: a header, a type section of variable-length
// records, a string section.

import { readFileSync } from 'node:fs';

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';
const BTF_MAGIC = 0xeb9f;

const KIND_STRUCT = 4;
const KIND_UNION = 5;

/** Bytes that follow a type record of `kind` with `vlen` entries. */
function trailing(kind: number, vlen: number): number {
  switch (kind) {
    case 1: // INT
    case 14: // VAR
    case 17: // DECL_TAG
      return 4;
    case 3: // ARRAY
      return 12;
    case 4: // STRUCT
    case 5: // UNION
    case 15: // DATASEC
    case 19: // ENUM64
      return vlen * 12;
    case 6: // ENUM
    case 13: // FUNC_PROTO
      return vlen * 8;
    case 2: // PTR
    case 7: // FWD
    case 8: // TYPEDEF
    case 9: // VOLATILE
    case 10: // CONST
    case 11: // RESTRICT
    case 12: // FUNC
    case 16: // FLOAT
    case 18: // TYPE_TAG
      return 0;
    default:
      throw new Error(`unknown BTF kind ${kind}`);
  }
}

export interface BtfTypes {
  /** Size in bytes of the named struct or union (the first one of that name). */
  sizeOf(name: string): number | undefined;
  /** Whether a struct or union of that name exists. */
  has(name: string): boolean;
  /** Number of type records read. */
  readonly count: number;
}

/** Parses BTF from `data`; throws an Error naming what is wrong with it. */
export function parseBtf(data: Buffer): BtfTypes {
  if (data.length < 24) throw new Error('BTF too short for its header');
  const magic = data.readUInt16LE(0);
  if (magic !== BTF_MAGIC)
    throw new Error(`not BTF (magic 0x${magic.toString(16)}; big-endian BTF is not read)`);
  const hdrLen = data.readUInt32LE(4);
  const typeOff = hdrLen + data.readUInt32LE(8);
  const typeLen = data.readUInt32LE(12);
  const strOff = hdrLen + data.readUInt32LE(16);
  const strLen = data.readUInt32LE(20);
  if (typeOff + typeLen > data.length || strOff + strLen > data.length)
    throw new Error('BTF sections run past the end');
  const nameAt = (off: number): string => {
    const start = strOff + off;
    const end = data.indexOf(0, start);
    return data.toString('latin1', start, end < 0 ? strOff + strLen : end);
  };
  const sizes = new Map<string, number>();
  let count = 0;
  for (let pos = typeOff; pos < typeOff + typeLen; ) {
    const nameOff = data.readUInt32LE(pos);
    const info = data.readUInt32LE(pos + 4);
    const sizeOrType = data.readUInt32LE(pos + 8);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    if ((kind === KIND_STRUCT || kind === KIND_UNION) && nameOff !== 0) {
      const name = nameAt(nameOff);
      if (!sizes.has(name)) sizes.set(name, sizeOrType);
    }
    pos += 12 + trailing(kind, vlen);
    count += 1;
  }
  return { sizeOf: (name) => sizes.get(name), has: (name) => sizes.has(name), count };
}

/** The running kernel's BTF, or the reason it cannot be read. */
export function readKernelBtf(
  path = VMLINUX_BTF,
): { ok: true; btf: BtfTypes } | { ok: false; reason: string } {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    return {
      ok: false,
      reason: `${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    };
  }
  try {
    return { ok: true, btf: parseBtf(data) };
  } catch (e) {
    return { ok: false, reason: `${path}: ${(e as Error).message}` };
  }
}
