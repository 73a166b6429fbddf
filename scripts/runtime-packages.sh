#!/usr/bin/env bash
# Prints the Debian packages that own the shared libraries a binary links (one a line,
# sorted): what a runtime image must install for it. Used by the Dockerfile.
#   scripts/runtime-packages.sh build/outrigger
set -euo pipefail
bin=${1:?usage: runtime-packages.sh BINARY}
ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u |
  while read -r lib; do
    # usrmerge: dpkg may know the file under /lib or /usr/lib; try both, then the name.
    pkg=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(realpath "$lib")" 2>/dev/null ||
      dpkg -S "*/$(basename "$(realpath "$lib")")" 2>/dev/null || true)
    if [ -z "$pkg" ]; then
      echo "runtime-packages.sh: no package owns $lib" >&2
      exit 1
    fi
    echo "$pkg" | head -1 | cut -d: -f1
  done | sort -u
