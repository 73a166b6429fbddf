# Helpers shared by the end-to-end benchmark scripts (sourced, not run).

log() { echo "[$(date +%T)] $*" >&2; }

# N free loopback TCP ports (held open together, so they are distinct).
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}
free_udp_port() {
  python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
tcp_listening() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q LISTEN; }
udp_bound() { ss -lunH "sport = :$1" 2>/dev/null | grep -q .; }

cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }  # utime + stime of a pid
cpu_busy() { awk -v c="cpu$1" '$1 == c {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }  # user nice system irq softirq of a CPU
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }  # pid VmRSS|VmHWM|...
kv() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1" | head -1; }  # "a=1 b=2" b -> 2
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
udp_snmp() { awk '$1 == "Udp:" && $2 ~ /^[0-9]/ {print $'"$1"'}' /proc/net/snmp; }  # 6: RcvbufErrors
fmt() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }  # 1234567 -> 1,234,567

# A counter of the collector's own metrics, summed over label sets (0 if absent).
self_metric() {  # metrics_port name
  curl -s --max-time 2 "http://127.0.0.1:$1/metrics" 2>/dev/null |
    awk -v n="$2" '$1 == n || index($1, n "{") == 1 {s += $2} END {printf "%.0f", s}'
}

stop_pid() {  # pid [timeout_s]: SIGTERM, wait, then SIGKILL
  local pid=$1 t=${2:-10}
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 $((t * 10))); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  log "pid $pid did not stop in ${t}s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

kill_pids() {  # pid...: SIGKILL each one still running, and reap it
  local p
  for p in "$@"; do
    [[ -n $p ]] && kill -0 "$p" 2>/dev/null && { kill -KILL "$p"; wait "$p"; } 2>/dev/null || true
  done
}

# The threads of a pid, by name (threads of one name summed): "name ticks voluntary
# nonvoluntary" per line (CPU time in clock ticks, context switches). The CPU time is the
# scheduler's own count in ns (/proc/.../schedstat) turned into ticks, so a thread that ran
# 3 ms shows 0.3 ticks, not 0 or 1 as utime + stime (sampled at each tick) would; utime +
# stime where the kernel has no schedstat. A thread that ended is gone.
thread_snapshot() {  # pid
  local t tck
  tck=$(getconf CLK_TCK)
  for t in /proc/"$1"/task/*; do
    {
      tr ' ' _ <"$t/comm"
      if [[ -r $t/schedstat ]]; then
        awk -v tck="$tck" '{printf "%.4f\n", $1 * tck / 1e9}' "$t/schedstat"
      else
        sed 's/^.*) //' "$t/stat" | awk '{print $12 + $13}'
      fi
      awk '$1 ~ /ctxt_switches:$/ {print $2}' "$t/status"
    } 2>/dev/null | paste -sd' '
  done | awk 'NF == 4 {t[$1] += $2; v[$1] += $3; n[$1] += $4} END {for (k in t) print k, t[k], v[k], n[k]}'
}
# From `strace -f -o FILE` output (each line "TID syscall(..." or "TID <... syscall resumed>")
# and a "tid name" list: "name syscall count" lines, one per thread name and syscall
# (threads of one name summed), and "* syscall count" for all threads.
strace_by_thread() {  # strace-output tid-names
  awk 'FNR == NR {name[$1] = $2; next}
    {
      call = $2
      if (call == "<...") next  # the end of a call counted at its start
      sub(/\(.*/, "", call)
      if (call !~ /^[a-z_0-9]+$/) next
      t = ($1 in name) ? name[$1] : "other"
      n[t " " call]++; n["* " call]++
    }
    END {for (k in n) print k, n[k]}' "$2" "$1"
}

# Markdown rows "| label name | CPU ms/s | switches/s | CPU µs per request | switches per
# request |" from two thread_snapshot files taken `seconds` apart while `requests` were
# served (0: the last two are "-"), busiest thread first.
thread_rows() {  # label before after seconds requests
  awk -v label="$1" -v secs="$4" -v reqs="$5" -v tck="$(getconf CLK_TCK)" '
    FNR == NR {t[$1] = $2; v[$1] = $3; n[$1] = $4; next}
    {
      ms = ($2 - t[$1]) * 1000 / tck; cs = ($3 - v[$1]) + ($4 - n[$1])
      if (ms == 0 && cs == 0) next
      printf "| %s | %.1f | %.1f | %s | %s |\n", (label == "" ? $1 : label " " $1), ms / secs, cs / secs,
        (reqs > 0 ? sprintf("%.0f", ms * 1000 / reqs) : "-"), (reqs > 0 ? sprintf("%.2f", cs / reqs) : "-")
    }' "$2" "$3" | sort -t'|' -k3,3nr
}

# "name instructions" per thread name (threads of one name summed, busiest first) from
# callgrind's per-thread dumps (--separate-threads=yes). Callgrind knows no thread names:
# a thread is named by a function only it runs.
callgrind_threads() {  # dump files...
  local f n name pair
  for f in "$@"; do
    n=$(awk '$1 == "summary:" || $1 == "totals:" {print $2; exit}' "$f")
    ((${n:-0} > 0)) || continue
    name=other
    for pair in "HttpWorkers::Core::Work:otlp-http" "OtlpReceiver::PollGrpc:otlp-grpc" \
      "QueuedExporter::Worker:exporter" "BatchProcessor::Run:batch" "FilelogReceiver::Run:filelog" \
      "scheduler::run:event-loop"; do
      grep -q "${pair%:*}" "$f" && { name=${pair##*:}; break; }
    done
    echo "$name $n"
  done | awk '{s[$1] += $2} END {for (k in s) print k, s[k]}' | sort -k2,2nr
}

# A markdown table: the header row, its separator, the rows, a blank line.
md_table() {  # "| a | b |" rows...
  local header=$1
  shift
  echo "$header"
  sed 's/[^|][^|]*/---/g' <<<"$header"
  local r
  for r in "$@"; do echo "$r"; done
  echo
}

# Resident set by mapped file, from /proc/PID/smaps: "name rss_kb anon_kb" rows, largest
# first. Anonymous mappings (heap, thread stacks) are "[anon]"; a file's anonymous pages
# are its relocated or written ones (RELRO, .data), the rest are page-cache pages.
rss_by_file() {  # pid [rows]
  awk '$1 ~ /^[0-9a-f]+-[0-9a-f]+$/ {n = (NF >= 6 ? $6 : "[anon]"); sub(".*/", "", n); next}
       $1 == "Rss:" {r[n] += $2} $1 == "Anonymous:" {a[n] += $2}
       END {for (k in r) if (r[k] > 0) print k, r[k], a[k] + 0}' "/proc/$1/smaps" |
    sort -k2,2nr | head -"${2:-12}"
}
