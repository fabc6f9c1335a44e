'use strict';
// Mark version requirements of an ELF64 little-endian shared object as weak (VER_FLG_WEAK), so
// the dynamic loader accepts a library that lacks those versions; the symbols they named must
// then come from elsewhere (glibc-compat.cc). Only the flags of the named entries change.

const SHT_GNU_VERNEED = 0x6ffffffe;
const VER_FLG_WEAK = 0x2;

/** Returns how many of `versions` (e.g. 'GLIBC_2.38') were found and marked. */
function weakenVersions(elf, versions) {
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) throw new Error('not an ELF64 little-endian file');
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const section = (i) => {
    const o = shoff + i * shentsize;
    return { type: elf.readUInt32LE(o + 4), offset: Number(elf.readBigUInt64LE(o + 0x18)), link: elf.readUInt32LE(o + 0x28), info: elf.readUInt32LE(o + 0x2c) };
  };
  let marked = 0;
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (s.type !== SHT_GNU_VERNEED) continue;
    const strtab = section(s.link).offset;
    const cstring = (at) => elf.toString('latin1', strtab + at, elf.indexOf(0, strtab + at));
    // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32 (sh_info of them).
    for (let k = 0, vn = s.offset; k < s.info; k++, vn += elf.readUInt32LE(vn + 12)) {
      const count = elf.readUInt16LE(vn + 2);
      // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
      for (let j = 0, aux = vn + elf.readUInt32LE(vn + 8); j < count; j++, aux += elf.readUInt32LE(aux + 12)) {
        if (!versions.includes(cstring(elf.readUInt32LE(aux + 8)))) continue;
        elf.writeUInt16LE(elf.readUInt16LE(aux + 4) | VER_FLG_WEAK, aux + 4);
        marked++;
      }
    }
  }
  return marked;
}

module.exports = { weakenVersions };
