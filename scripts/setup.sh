# Shared by ./run.sh and ./test.sh: install what is missing on a Debian machine, saying what and why.
# Usage: source scripts/setup.sh; ensure_packages "why" pkg...; ensure_dotnet

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31merror: %s\033[0m\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root to run: $* (run as root, or install sudo)"; fi
}

APT_UPDATED=
# ensure_packages WHY PACKAGE... : installs the Debian packages that are not installed yet.
ensure_packages() {
  local why=$1; shift
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} ($why), and this is not a Debian machine with apt-get: install them by hand"
  say "Installing ${missing[*]} ($why)"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$APT_UPDATED" ]; then
    as_root apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null || die "apt-get update failed"
    APT_UPDATED=1
  fi
  as_root apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

ensure_dotnet() {
  command -v dotnet >/dev/null 2>&1 || die "the .NET SDK 10 is not installed (dotnet not on PATH): install it from https://dot.net, then rerun"
  dotnet --list-sdks | grep -q '^10\.' || die "the .NET SDK 10 is needed; found: $(dotnet --list-sdks | tr '\n' ' ')"
}

# What the ledger needs to build and run: PostgreSQL's server binaries (embedded cluster), the data set,
# patchelf + g++ + python3 (the TorchSharp native-library fix at build time), node + npm (ApexCharts), a font for the
# report images (ledger report).
ensure_base() {
  ensure_dotnet
  ensure_packages "the ledger's embedded PostgreSQL" postgresql
  ensure_packages "the real Fashion-MNIST the trainer reads" dataset-fashion-mnist
  ensure_packages "patching TorchSharp's native library at build time" patchelf g++ python3
  command -v npm >/dev/null 2>&1 || ensure_packages "installing ApexCharts from npm at build time" nodejs npm
  ensure_packages "the text of the report images (ledger report draws with SkiaSharp)" fonts-dejavu-core fontconfig
}
