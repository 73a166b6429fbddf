# Shared by the shell tests of the real binary (cli_test.sh, idle_threads_test.sh):
# sourced after BIN is set. A scratch directory $DIR and a collector pid $PID, both
# cleaned up at exit; check/pass/fail counting; free ports; bounded polling.
DIR=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT
pass=0; fail=0
check() {  # name, condition (command)
  if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_for() {  # condition, seconds
  local deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do eval "$1" && return 0; sleep 0.1; done
  return 1
}
