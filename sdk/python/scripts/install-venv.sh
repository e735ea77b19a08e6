#!/usr/bin/env bash
# Makes VENV, a venv of PYTHON (an interpreter install-python.sh installed), with every package
# of REQUIREMENTS (pinned with hashes) and nothing else.
#
#   sdk/python/scripts/install-venv.sh sdk/python/.pythons/3.9/root/usr/bin/python3.9 \
#     sdk/python/.pythons/3.9/venv sdk/python/requirements-matrix.txt
#
# Debian's python3.X-minimal has no pip (nor ensurepip), so the venv starts without one and the
# first install runs pip from its wheel: the pip of REQUIREMENTS, downloaded by the pip of
# sdk/python/.venv (make installs it first) and checked against its hash there. That install
# puts pip in the venv too, for the tests that build and install the SDK's wheel.
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 PYTHON VENV REQUIREMENTS" >&2
  exit 2
fi
python=$1 venv=$2 requirements=$3
download_pip=$(dirname "$0")/../.venv/bin/pip

rm -rf "$venv"
"$python" -m venv --without-pip "$venv"
bootstrap=$(mktemp -d)
trap 'rm -rf "$bootstrap"' EXIT
# pip's requirement alone: its line and the --hash lines continuing it.
awk '/^pip==/ { on = 1 } on { print } on && !/\\$/ { exit }' "$requirements" >"$bootstrap/pip.txt"
"$download_pip" download --quiet --disable-pip-version-check --no-deps --only-binary=:all: --require-hashes \
  -d "$bootstrap" -r "$bootstrap/pip.txt"
wheel=$(echo "$bootstrap"/pip-*.whl)
"$venv/bin/python" "$wheel/pip" install --quiet --disable-pip-version-check --no-compile --require-hashes --no-deps \
  -r "$requirements"
echo "$venv: Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())'), $(
  "$venv/bin/python" -m pip list --disable-pip-version-check --format freeze 2>/dev/null | grep -iE '^(pytest|httpx|anyio)==' | paste -sd' ')"
