#!/usr/bin/env bash
# patch-libtorchsharp.sh <output-dir> [--check]
#
# TorchSharp 0.107.0 ships libLibTorchSharp.so built with GCC 13: it needs
# GLIBCXX_3.4.32, for one symbol only (_ZSt21ios_base_library_initv). Debian 12's
# libstdc++ (GCC 12) stops at GLIBCXX_3.4.30, so the first torch call fails with
# "version `GLIBCXX_3.4.32' not found". When (and only when) the system libstdc++
# lacks GLIBCXX_3.4.32, this patches every COPY of libLibTorchSharp.so found in
# <output-dir> (root, runtimes/linux-x64/native/, cpu/, cuda-*/), never the NuGet cache:
#   1. patchelf --clear-symbol-version _ZSt21ios_base_library_initv
#   2. patchelf --add-needed libtorchsharp_ios_shim.so  (built from ios_base_shim.cpp,
#      placed next to the library; the library's RUNPATH starts with $ORIGIN/)
#   3. mark the GLIBCXX_3.4.32 version-needs entry weak (elf_weak_verneed.py)
# Each copy is patched in a temporary file and moved into place (which also breaks
# any hard/symbolic link to the NuGet cache). Already-patched copies are detected,
# so re-running is fast. --check only reports and exits 1 if something needs patching.
#
# Environment: TORCHSHARP_GLIBCXX_PATCH=auto (default) | force | skip
#              TORCHSHARP_LIBSTDCXX (libstdc++.so.6 to test instead of the ldconfig one),
#              PYTHON (python3 to use), CXX (C++ compiler, default g++), PATCHELF.
set -euo pipefail

me="patch-libtorchsharp"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
need_ver="GLIBCXX_3.4.32"
sym="_ZSt21ios_base_library_initv"
shim="libtorchsharp_ios_shim.so"
shim_src="$here/ios_base_shim.cpp"
weak_py="$here/elf_weak_verneed.py"
mode="${TORCHSHARP_GLIBCXX_PATCH:-auto}"

die() { echo "$me: error: $*" >&2; exit 1; }

check_only=0
out=""
for a in "$@"; do
  case "$a" in
    --check) check_only=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) [[ -z "$out" ]] || die "usage: $0 <output-dir> [--check]"; out="$a" ;;
  esac
done
[[ -n "$out" ]] || die "usage: $0 <output-dir> [--check]"
[[ -d "$out" ]] || die "output directory '$out' does not exist"
out="$(cd "$out" && pwd)"

if [[ "$(uname -s)" != Linux || "$mode" == skip ]]; then
  echo "$me: skipped ($(uname -s), TORCHSHARP_GLIBCXX_PATCH=$mode)"; exit 0
fi

# --- copies of libLibTorchSharp.so in the output (not following symlinked dirs) ---
mapfile -t libs < <(find "$out" -maxdepth 4 -name libLibTorchSharp.so \( -type f -o -type l \) \
  \( -path "$out/libLibTorchSharp.so" -o -path "$out/runtimes/*/native/*" \
     -o -path "$out/cpu/*" -o -path "$out/cuda-*/*" \) 2>/dev/null | sort)
if (( ${#libs[@]} == 0 )); then
  echo "$me: no libLibTorchSharp.so under $out; nothing to do"; exit 0
fi
rel() { echo "${1#"$out"/}"; }

# --- does the system libstdc++ provide GLIBCXX_3.4.32? ---
find_libstdcxx() {
  local p ldc
  for ldc in ldconfig /sbin/ldconfig /usr/sbin/ldconfig; do
    if command -v "$ldc" >/dev/null 2>&1; then
      p="$("$ldc" -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')"
      [[ -z "$p" ]] && p="$("$ldc" -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 / {print $NF; exit}')"
      [[ -n "$p" && -e "$p" ]] && { readlink -f "$p"; return; }
    fi
  done
  for p in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6 \
           /lib/x86_64-linux-gnu/libstdc++.so.6 /lib64/libstdc++.so.6; do
    [[ -e "$p" ]] && { readlink -f "$p"; return; }
  done
}
libstdcxx="${TORCHSHARP_LIBSTDCXX:-$(find_libstdcxx || true)}"
if [[ "$mode" != force ]]; then
  [[ -n "$libstdcxx" ]] || die "cannot locate the system libstdc++.so.6 (set TORCHSHARP_GLIBCXX_PATCH=force or skip)"
  if grep -qaF "$need_ver" "$libstdcxx"; then
    echo "$me: system libstdc++ ($libstdcxx) has $need_ver; libLibTorchSharp.so left as is"; exit 0
  fi
fi

# --- tools ---
PYTHON="${PYTHON:-}"
if [[ -z "$PYTHON" ]]; then
  for c in /usr/bin/python3 python3; do command -v "$c" >/dev/null 2>&1 && { PYTHON="$c"; break; }; done
fi
[[ -n "$PYTHON" ]] || die "python3 not found (needed for $weak_py)"
PATCHELF="${PATCHELF:-patchelf}"
command -v "$PATCHELF" >/dev/null 2>&1 || \
  die "patchelf not found; install it: apt-get install -y -o DPkg::Lock::Timeout=300 patchelf"
CXX="${CXX:-g++}"
[[ -f "$shim_src" && -f "$weak_py" ]] || die "missing $shim_src or $weak_py"

# --- serialise concurrent runs on the same output dir ---
if command -v flock >/dev/null 2>&1; then
  exec 9<"$out" && flock -w 300 9 || true   # lock the directory itself: no lock file left behind
fi

is_patched() {  # $1 = library file
  [[ "$("$PYTHON" "$weak_py" status "$1" "$need_ver")" != strong ]] &&
    "$PATCHELF" --print-needed "$1" | grep -qxF "$shim"
}

shim_built=""   # first shim built in this run, copied to the other directories
ensure_shim() {  # $1 = directory
  local dst="$1/$shim"
  [[ -f "$dst" && "$dst" -nt "$shim_src" ]] && return 0
  if [[ -n "$shim_built" ]]; then cp -f "$shim_built" "$dst.tmp$$"
  else
    "$CXX" -shared -fPIC -O2 -Wl,-soname,"$shim" -o "$dst.tmp$$" "$shim_src" || die "failed to compile $shim_src"
  fi
  mv -f "$dst.tmp$$" "$dst"
  shim_built="$dst"
  built_shims+=("$(rel "$dst")")
}

done_libs=() done_libs_abs=() ok_libs=() built_shims=() todo=() unneeded=()
for lib in "${libs[@]}"; do
  st="$("$PYTHON" "$weak_py" status "$lib" "$need_ver")" || die "cannot read $lib"
  has_shim=0; "$PATCHELF" --print-needed "$lib" | grep -qxF "$shim" && has_shim=1
  if [[ -L "$lib" || "$st" == strong ]] || [[ "$st" == weak && $has_shim == 0 ]]; then todo+=("$lib")
  elif (( has_shim )); then ok_libs+=("$lib")
  else unneeded+=("$lib")   # does not reference GLIBCXX_3.4.32 at all (other TorchSharp build)
  fi
done
if (( ${#todo[@]} + ${#ok_libs[@]} == 0 )); then
  echo "$me: libLibTorchSharp.so does not need $need_ver; nothing to do"; exit 0
fi

if (( check_only )); then
  if (( ${#todo[@]} )); then echo "$me: needs patching: ${todo[*]}"; exit 1; fi
  echo "$me: all ${#ok_libs[@]} copies already patched"; exit 0
fi

if ! command -v "$CXX" >/dev/null 2>&1; then   # check before touching anything
  for lib in "${todo[@]}" "${ok_libs[@]}"; do
    d="$(dirname "$lib")"; [[ -f "$d/$shim" && "$d/$shim" -nt "$shim_src" ]] ||
      die "$CXX not found (needed to build $shim); install it: apt-get install -y -o DPkg::Lock::Timeout=300 g++"
  done
fi

for lib in "${todo[@]}"; do
  tmp="$lib.patching$$"
  cp -fL "$lib" "$tmp"          # real copy: never touch a linked NuGet-cache file
  chmod u+w "$tmp"
  trap 'rm -f "$tmp"' EXIT
  "$PATCHELF" --clear-symbol-version "$sym" "$tmp"
  "$PATCHELF" --print-needed "$tmp" | grep -qxF "$shim" || "$PATCHELF" --add-needed "$shim" "$tmp"
  "$PYTHON" "$weak_py" weaken "$tmp" "$need_ver" >/dev/null
  is_patched "$tmp" || die "patching $lib did not verify"
  mv -f "$tmp" "$lib"
  trap - EXIT
  done_libs+=("$(rel "$lib")"); done_libs_abs+=("$lib")
done
for lib in "${done_libs_abs[@]}" "${ok_libs[@]}"; do ensure_shim "$(dirname "$lib")"; done

if (( ${#done_libs[@]} )); then
  echo "$me: patched ${done_libs[*]} for $need_ver (system libstdc++ ${libstdcxx:-?} lacks it; symbol $sym now from $shim next to it)"
elif (( ${#built_shims[@]} )); then
  echo "$me: already patched; rebuilt ${built_shims[*]}"
else
  names=(); for l in "${ok_libs[@]}"; do names+=("$(rel "$l")"); done
  echo "$me: already patched: ${names[*]}"
fi
