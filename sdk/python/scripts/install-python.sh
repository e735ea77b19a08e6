#!/usr/bin/env bash
# Installs Debian's build of CPython VERSION from Debian SUITE into PREFIX, for this machine
# whatever its own distribution: the interpreter with the C libraries it links against (that
# suite's glibc included), its executable patched to load them from PREFIX. EXTRA packages of
# the suite come along (Debian ships distutils, which pip needs before Python 3.10, apart as
# python3-distutils).
#
#   sdk/python/scripts/install-python.sh 3.9 bullseye sdk/python/.pythons/3.9/root python3-distutils
#   sdk/python/scripts/install-python.sh 3.15 sid sdk/python/.pythons/3.15/root
#
# The packages come through apt with a state of its own (sources, lists, cache under
# PREFIX.apt, removed at the end), so the machine's apt configuration and packages are left as
# they are: apt checks the suite's index against Debian's archive key and every .deb against the
# index's SHA256. The Debian version is not pinned (a suite moves on and old versions leave the
# mirror): the Python minor version and the suite are; the versions installed are printed and
# kept in PREFIX/debian-packages.txt. A second run with PREFIX/.installed present and the
# interpreter working does nothing. Needs root for `apt-get install patchelf` only when missing.
set -euo pipefail

if [[ $# -lt 3 ]]; then
  echo "usage: $0 VERSION SUITE PREFIX [EXTRA...]   (e.g. 3.15 sid sdk/python/.pythons/3.15/root)" >&2
  exit 2
fi
version=$1 suite=$2
prefix=$(realpath -m "$3")
extra=("${@:4}")
python=$prefix/usr/bin/python$version
stamp=$prefix/.installed

# What every test run needs of the standard library, with the C libraries behind it.
check='import sys, ssl, sqlite3, ctypes, lzma, bz2, zlib, decimal, asyncio, uuid, venv, socket, pwd
assert sys.version_info[:2] == tuple(int(n) for n in sys.argv[1].split(".")), sys.version
assert sys.prefix == sys.argv[2], (sys.prefix, sys.argv[2])
ssl.create_default_context(); sqlite3.connect(":memory:").execute("select 1")
ctypes.CDLL(None); decimal.Decimal(1) / 3; socket.getaddrinfo("localhost", 80); pwd.getpwuid(0)
print("Python", sys.version.split()[0], "at", sys.executable)'

request="$version $suite ${extra[*]}"
installed() { grep "^python$version-minimal " "$prefix/debian-packages.txt" | cut -d' ' -f2; }
if [[ -f $stamp && $(cat "$stamp") == "$request" ]] && "$python" -c "$check" "$version" "$prefix/usr" >/dev/null 2>&1; then
  echo "Python $version: Debian python$version-minimal $(installed) from $suite, already in $prefix"
  exit 0
fi

if ! command -v patchelf >/dev/null; then
  apt-get install -y -qq patchelf || (apt-get update -qq && apt-get install -y -qq patchelf)
fi

# PREFIX is replaced whole: refuse one that holds anything but an earlier install.
if [[ -d $prefix && -n $(ls -A "$prefix") && ! -f $prefix/debian-packages.txt ]]; then
  echo "$prefix is not empty and not an install of this script: not replacing it" >&2
  exit 1
fi
work=$prefix.apt
rm -rf "$prefix" "$work"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs" "$prefix"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
  >"$work/sources.list"
: >"$work/status"
# Read after the machine's own configuration (its proxies, if any, still apply).
cat >"$work/apt.conf" <<EOF
Dir::Etc::SourceList "$work/sources.list";
Dir::Etc::SourceParts "/dev/null";
Dir::State::Lists "$work/lists";
Dir::State::status "$work/status";
Dir::Cache "$work/cache";
Dir::Cache::pkgcache "pkgcache.bin";
Dir::Cache::srcpkgcache "srcpkgcache.bin";
Debug::NoLocking "true";
APT::Sandbox::User "root";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
#clear APT::Update::Post-Invoke-Success;
EOF
private_apt() { "$1" -c "$work/apt.conf" "${@:2}"; }

echo "Python $version: Debian $suite's packages ..."
private_apt apt-get update -qq

# The interpreter's packages, then every library they need, recursively: only libraries (lib*,
# zlib1g), not the data packages beside them (tzdata, media-types, netbase, readline-common, ...).
wanted=(python$version-minimal libpython$version-minimal libpython$version-stdlib "${extra[@]}")
declare -A seen=()
level=("${wanted[@]}")
while [[ ${#level[@]} -gt 0 ]]; do
  for package in "${level[@]}"; do seen[$package]=1; done
  next=()
  while read -r dependency; do
    if [[ $dependency =~ ^(lib[a-z0-9].*|zlib1g)$ && -z ${seen[$dependency]:-} ]]; then
      seen[$dependency]=1
      next+=("$dependency")
    fi
  done < <(private_apt apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
             --no-enhances "${level[@]}" | sed -nE 's/^ *\|?(Pre)?Depends: ([^< ]+).*/\2/p')
  level=("${next[@]}")
done
packages=("${!seen[@]}")

(cd "$work/debs" && private_apt apt-get download -qq "${packages[@]}")
for deb in "$work"/debs/*.deb; do
  dpkg-deb -x "$deb" "$prefix"
  dpkg-deb --show --showformat='${Package} ${Version}\n' "$deb"
done | sort >"$prefix/debian-packages.txt"

# The suite's dynamic loader and libraries, not the machine's: DT_RPATH (not RUNPATH) so the
# extension modules Python loads later find their libraries in PREFIX too.
loader=
for candidate in "$prefix"/{usr/,}lib/x86_64-linux-gnu/ld-linux-x86-64.so.2; do
  if [[ -z $loader && -e $candidate ]]; then loader=$(realpath "$candidate"); fi
done
if [[ -z $loader ]]; then echo "no ld-linux-x86-64.so.2 in $suite's libc6" >&2; exit 1; fi
patchelf --set-interpreter "$loader" --force-rpath \
  --set-rpath "$prefix/usr/lib/x86_64-linux-gnu:$prefix/lib/x86_64-linux-gnu" "$(realpath "$python")"

"$python" -c "$check" "$version" "$prefix/usr"
rm -rf "$work"
echo "$request" >"$stamp"
echo "Python $version: Debian python$version-minimal $(installed) from $suite, in $prefix ($(wc -l <"$prefix/debian-packages.txt") packages: debian-packages.txt)"
