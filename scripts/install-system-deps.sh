#!/usr/bin/env bash
# Install the Debian packages the tests and reports need, if any is missing:
# poppler-utils (pdfsig, pdfdetach), qpdf, libnss3-tools (certutil for pdfsig's trust store),
# and gcc plus the Python headers that build the SHA-256 extension (vault/hashing/_sha256_lanes.c).
set -euo pipefail
python="${PYTHON:-python3}"

missing=()
command -v pdfsig >/dev/null || missing+=(poppler-utils)
command -v qpdf >/dev/null || missing+=(qpdf)
command -v certutil >/dev/null || missing+=(libnss3-tools)
command -v gcc >/dev/null || missing+=(gcc)
include_dir="$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
if [ ! -f "$include_dir/Python.h" ]; then
    if [ "$(command -v "$python")" = /usr/bin/python3 ]; then
        missing+=(python3-dev)
    else
        echo "warning: no Python.h in $include_dir; the SHA-256 extension will not build and hashing falls back to hashlib" >&2
    fi
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null; then
    sudo="sudo"
else
    echo "error: missing Debian packages ${missing[*]}; install them as root: apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "installing Debian packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
