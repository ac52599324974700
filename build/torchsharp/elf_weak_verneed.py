#!/usr/bin/env python3
"""Mark a version-needs entry (e.g. GLIBCXX_3.4.32) of an ELF64 little-endian
shared library as weak (VER_FLG_WEAK) so that glibc's loader accepts its absence.

Usage:
  elf_weak_verneed.py status <lib.so> <VERSION>   prints one of: absent | strong | weak
  elf_weak_verneed.py weaken <lib.so> <VERSION>   sets VER_FLG_WEAK in place (idempotent),
                                                   prints: weakened | already-weak | absent
Exit codes: 0 ok, 2 usage / unsupported file.
Only the standard library is used; only the 2-byte vna_flags field is ever written.
"""
import struct
import sys

SHT_GNU_VERNEED = 0x6FFFFFFE
DT_NULL, DT_STRTAB, DT_VERNEED, DT_VERNEEDNUM = 0, 5, 0x6FFFFFFE, 0x6FFFFFFF
PT_LOAD, PT_DYNAMIC = 1, 2
VER_FLG_WEAK = 0x2


def die(msg):
    sys.stderr.write("elf_weak_verneed: %s\n" % msg)
    sys.exit(2)


def cstr(data, off):
    end = data.index(b"\0", off)
    return data[off:end].decode("ascii", "replace")


def locate_verneed(data):
    """Return (file offset of .gnu.version_r, entry count, file offset of its string table)."""
    if data[:4] != b"\x7fELF":
        die("not an ELF file")
    if data[4] != 2 or data[5] != 1:
        die("only ELF64 little-endian is supported")
    (e_phoff, e_shoff) = struct.unpack_from("<QQ", data, 0x20)
    (e_phentsize, e_phnum, e_shentsize, e_shnum) = struct.unpack_from("<HHHH", data, 0x36)

    # Preferred: section headers.
    if e_shoff and e_shnum:
        shdrs = [struct.unpack_from("<IIQQQQIIQQ", data, e_shoff + i * e_shentsize) for i in range(e_shnum)]
        for (_name, sh_type, _fl, _addr, sh_offset, _size, sh_link, sh_info, _al, _es) in shdrs:
            if sh_type == SHT_GNU_VERNEED:
                return sh_offset, sh_info, shdrs[sh_link][4]

    # Fallback: dynamic segment (works on section-stripped files).
    phdrs = [struct.unpack_from("<IIQQQQQQ", data, e_phoff + i * e_phentsize) for i in range(e_phnum)]

    def vaddr_to_off(va):
        for (p_type, _f, p_offset, p_vaddr, _pa, p_filesz, _ms, _al) in phdrs:
            if p_type == PT_LOAD and p_vaddr <= va < p_vaddr + p_filesz:
                return va - p_vaddr + p_offset
        die("address 0x%x not mapped by any PT_LOAD" % va)

    for (p_type, _f, p_offset, _va, _pa, p_filesz, _ms, _al) in phdrs:
        if p_type != PT_DYNAMIC:
            continue
        dyn = {}
        for off in range(p_offset, p_offset + p_filesz, 16):
            tag, val = struct.unpack_from("<qQ", data, off)
            if tag == DT_NULL:
                break
            dyn.setdefault(tag, val)
        if DT_VERNEED in dyn:
            return vaddr_to_off(dyn[DT_VERNEED]), dyn.get(DT_VERNEEDNUM, 0), vaddr_to_off(dyn[DT_STRTAB])
    return None, 0, None


def find_aux(data, version):
    """Yield (file offset of vna_flags, flags) for every vernaux named `version`."""
    vn_off, count, str_off = locate_verneed(data)
    if vn_off is None:
        return
    for _ in range(count):
        (_ver, vn_cnt, _file, vn_aux, vn_next) = struct.unpack_from("<HHIII", data, vn_off)
        aux = vn_off + vn_aux
        for _ in range(vn_cnt):
            (_hash, flags, _other, name, vna_next) = struct.unpack_from("<IHHII", data, aux)
            if cstr(data, str_off + name) == version:
                yield aux + 4, flags
            if not vna_next:
                break
            aux += vna_next
        if not vn_next:
            break
        vn_off += vn_next


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("status", "weaken"):
        die("usage: %s status|weaken <lib.so> <VERSION>" % sys.argv[0])
    cmd, path, version = sys.argv[1:]
    with open(path, "rb") as f:
        data = f.read()
    hits = list(find_aux(data, version))
    if not hits:
        print("absent")
        return
    strong = [(off, fl) for off, fl in hits if not fl & VER_FLG_WEAK]
    if cmd == "status":
        print("strong" if strong else "weak")
        return
    if not strong:
        print("already-weak")
        return
    with open(path, "r+b") as f:
        for off, fl in strong:
            f.seek(off)
            f.write(struct.pack("<H", fl | VER_FLG_WEAK))
    print("weakened")


if __name__ == "__main__":
    main()
