// Just enough of ELF64 (little-endian) to take one section out of an object
// file by name: the .BTF of a compiled BPF object, to check its kfunc
// declarations against the kernel's before libbpf loads it. Layout from
// the System V gABI: the header's e_shoff, e_shentsize, e_shnum and
// e_shstrndx, then 64-byte section headers.

/** The bytes of section `name` in the ELF64 little-endian file `data`; undefined when absent; throws when it is not such a file. */
export function elfSection(data: Buffer, name: string): Buffer | undefined {
  if (data.length < 64 || data.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
  if (data[4] !== 2 || data[5] !== 1) throw new Error('not a little-endian ELF64 file');
  const shoff = Number(data.readBigUInt64LE(0x28));
  const shentsize = data.readUInt16LE(0x3a);
  const shnum = data.readUInt16LE(0x3c);
  const shstrndx = data.readUInt16LE(0x3e);
  if (shentsize < 64 || shoff + shnum * shentsize > data.length)
    throw new Error('ELF section headers run past the end');
  const header = (i: number) => {
    const at = shoff + i * shentsize;
    return {
      nameOff: data.readUInt32LE(at),
      offset: Number(data.readBigUInt64LE(at + 0x18)),
      size: Number(data.readBigUInt64LE(at + 0x20)),
    };
  };
  const strtab = header(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const start = strtab.offset + h.nameOff;
    const end = data.indexOf(0, start);
    if (data.toString('latin1', start, end < 0 ? start : end) !== name) continue;
    if (h.offset + h.size > data.length) throw new Error(`ELF section ${name} runs past the end`);
    return data.subarray(h.offset, h.offset + h.size);
  }
  return undefined;
}
