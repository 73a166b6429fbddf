#!/usr/bin/env bash
# The validator must fail on testdata/broken.yaml and name every broken reference.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(node "$here/validate.mjs" "$here/testdata/broken.yaml" 2>&1)
rc=$?
echo "$out"
fail=0
if [ $rc -ne 1 ]; then echo "FAIL: exit status $rc, want 1"; fail=1; fi
for want in \
  'volumeMount "ghost" has no volume' \
  'volume "unused" is mounted by no container' \
  'readinessProbe names port "helth"' \
  'names key "missing-key" of ConfigMap cfg' \
  'serviceAccountName "nobody"' \
  'targetPort otlp-grpc is no container port' \
  'matches no workload of the bundle' \
  'scaleTargetRef Deployment not-there' \
  'roleRef Role no-role' \
  'subject ServiceAccount default/no-sa'; do
  if ! grep -qF -- "$want" <<<"$out"; then echo "FAIL: not reported: $want"; fail=1; fi
done
[ $fail = 0 ] && echo "every broken reference reported"
exit $fail
