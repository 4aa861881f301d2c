#!/usr/bin/env bash
# Build KenLM's lmplz and build_binary from the kenlm PyPI sdist (the same source as the
# Python module), into $1 (default .cache/kenlm/bin). Installs Debian's Boost packages when
# they are missing and this runs as root; otherwise says which to install.
set -euo pipefail
OUT="${1:-.cache/kenlm/bin}"
VERSION="0.3.0"
PIP="${PIP:-.venv/bin/python -m pip}"
PACKAGES="cmake g++ make libboost-program-options-dev libboost-system-dev libboost-thread-dev libboost-test-dev zlib1g-dev libbz2-dev liblzma-dev"

if [ -x "$OUT/lmplz" ] && [ -x "$OUT/build_binary" ]; then
    exit 0
fi
if ! [ -f /usr/include/boost/program_options.hpp ] || ! [ -f /usr/include/boost/thread.hpp ] \
    || ! [ -f /usr/include/boost/test/unit_test.hpp ] || ! command -v cmake >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "kenlm: installing build dependencies: $PACKAGES"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $PACKAGES \
            >/dev/null || { apt-get update -q >/dev/null && \
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $PACKAGES >/dev/null; }
    else
        echo "kenlm: missing build dependencies; run: sudo apt-get install $PACKAGES" >&2
        exit 1
    fi
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
$PIP download -q --no-deps "kenlm==$VERSION" -d "$WORK" 2>&1 | grep -v "^WARNING: Location" || true
tar xzf "$WORK/kenlm-$VERSION.tar.gz" -C "$WORK"
cmake -S "$WORK/kenlm-$VERSION" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release -DKENLM_MAX_ORDER=6 >/dev/null
cmake --build "$WORK/build" --target lmplz build_binary -j "$(nproc)" >/dev/null
mkdir -p "$OUT"
cp "$WORK/build/bin/lmplz" "$WORK/build/bin/build_binary" "$OUT/"
echo "kenlm: lmplz and build_binary in $OUT"
