#!/usr/bin/env bash
# Components are leaves; the core names no component.
#  - A file under <kind>/<name>/ (kind: receivers processors exporters extensions
#    connectors) includes headers of its own folder and of the core, never of another
#    component folder.
#  - Nothing under collector/ includes a component header (the registration list that
#    cmake/Builtins.cmake generates from collector/builtins.cc.in is the exception: it
#    is generated into the build tree).
# bench/ and tests/ (top level) may include components.
# Prints every offending file:line and fails if there is one.
# Usage: check_layering.sh [source root]   (default: the parent of this script's folder)
set -euo pipefail

root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root"

kinds='receivers|processors|exporters|extensions|connectors'

# Files that break the rule today and are being fixed elsewhere; each entry is a path
# prefix (a file or a folder), with the reason.
allowed=(
)

is_allowed() {
  local f="$1" a
  for a in "${allowed[@]+"${allowed[@]}"}"; do
    [[ "$f" == "$a"* ]] && return 0
  done
  return 1
}

bad=0
# Every #include "<kind>/<name>/..." (or <...>) in a source file under the component
# folders and collector/.
while IFS= read -r hit; do
  file="${hit%%:*}"
  rest="${hit#*:}"
  line="${rest%%:*}"
  text="${rest#*:}"
  target="$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]([^">]+)[">].*/\1/' <<<"$text")"
  if [[ "$target" == ./* || "$target" == ../* ]]; then  # relative to the including file
    target="$(realpath -m --relative-to=. "$(dirname "$file")/$target")"
  fi
  [[ "$target" =~ ^($kinds)/([^/]+)/ ]] || continue
  target_comp="${BASH_REMATCH[1]}/${BASH_REMATCH[2]}"
  if [[ "$file" =~ ^($kinds)/([^/]+)/ ]]; then
    [[ "${BASH_REMATCH[1]}/${BASH_REMATCH[2]}" == "$target_comp" ]] && continue
    why="component ${BASH_REMATCH[1]}/${BASH_REMATCH[2]} includes another component's header"
  else
    why="the core includes a component header"
  fi
  if is_allowed "$file"; then
    echo "allowed for now: $file:$line: $target ($why)"
    continue
  fi
  echo "$file:$line: includes \"$target\": $why"
  bad=1
done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]' \
           --include='*.h' --include='*.hh' --include='*.hpp' --include='*.cc' --include='*.cpp' \
           --include='*.c' --include='*.inc' \
           receivers processors exporters extensions connectors collector 2>/dev/null || true)

if [[ $bad -ne 0 ]]; then
  echo "layering: components are leaves and the core names no component (see" \
       "tests/check_layering.sh): move what both sides need into collector/." >&2
  exit 1
fi
echo "layering: ok"
