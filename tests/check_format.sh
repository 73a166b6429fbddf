#!/usr/bin/env bash
# The tree is formatted with the root .clang-format (Debian 12's clang-format 14, which
# scripts/setup.sh installs). Lists every file that clang-format would change, with the
# command that fixes them, and fails if there is one.
# Usage: check_format.sh [source root]   (default: the parent of this script's folder)
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root"
command -v clang-format >/dev/null || { echo "clang-format is not installed (scripts/setup.sh installs it)"; exit 1; }
bad=()
while IFS= read -r f; do
  if ! clang-format --style=file "$f" | cmp -s - "$f"; then bad+=("$f"); fi
done < <(git ls-files '*.cc' '*.h' 2>/dev/null || find collector receivers processors exporters extensions connectors tests bench -name '*.cc' -o -name '*.h')
if [ ${#bad[@]} -gt 0 ]; then
  printf 'not formatted: %s\n' "${bad[@]}"
  echo "fix: clang-format -i ${bad[*]}"
  exit 1
fi
echo "all $(git ls-files '*.cc' '*.h' | wc -l) C++ files formatted"
