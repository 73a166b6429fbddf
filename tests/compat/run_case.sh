#!/usr/bin/env bash
# One upstream-compatibility case: `outrigger validate` on a config written from an
# upstream component's documentation. The case's header says what must happen:
#   # source: <where upstream documents it (README section, config.go, testdata file)>
#   # expect: valid                      (the default when no expect line is given)
#   # expect: refused <text>             validate exits 1 and its output contains <text>
# Several "# expect: refused" lines: each text must appear. The case runs from its own
# folder, so relative paths in it resolve next to it.
set -u
BIN=${1:?usage: run_case.sh path/to/outrigger case.yaml}
CASE=${2:?usage: run_case.sh path/to/outrigger case.yaml}
cd "$(dirname "$CASE")" || exit 1
grep -q '^# source: ' "$CASE" || { echo "FAIL: $CASE has no '# source:' line naming the upstream document"; exit 1; }
mapfile -t refused < <(sed -n 's/^# expect: refused //p' "$CASE")
out=$("$BIN" validate --config "$(basename "$CASE")" 2>&1); rc=$?
if [ ${#refused[@]} -eq 0 ]; then
  if [ $rc -ne 0 ]; then echo "FAIL: expected valid, validate exited $rc:"; echo "$out"; exit 1; fi
  exit 0
fi
if [ $rc -ne 1 ]; then echo "FAIL: expected refusal (exit 1), validate exited $rc:"; echo "$out"; exit 1; fi
for text in "${refused[@]}"; do
  if ! grep -qF -- "$text" <<<"$out"; then echo "FAIL: refusal does not contain '$text':"; echo "$out"; exit 1; fi
done
exit 0
