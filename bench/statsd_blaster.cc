// statsd_blaster: sends StatsD / DogStatsD datagrams as fast as possible or at a target
// rate, over UDP or a unixgram socket, with sendmmsg (many datagrams per system call).
//
//   statsd_blaster --endpoint 127.0.0.1:8125 --rate 500000 --duration 15
//   statsd_blaster --unixgram /tmp/statsd.sock --rate 0 --duration 5 --series 10000
//   statsd_blaster --print 3        # show three datagrams and exit
//
// The datagrams are generated up front (bench/statsd_lines.h): `--series` distinct series
// with a `--mix` of types, `--tags` DogStatsD tags and a `--sampled` fraction with
// sample rates; one value per line. Bounded by --duration (at most 3600 s) and, if set,
// --max-lines. Prints a summary on stderr and one `RESULT key=value ...` line on stdout.
//
// Over UDP a full receive buffer drops datagrams silently in the kernel: "sent" means
// handed to the kernel. Over unixgram the sender blocks instead (no loss) unless
// --nonblock, which then counts datagrams refused with EAGAIN as `dropped`.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/statsd_lines.h"

namespace {

using outrigger::bench::StatsdLoadOptions;

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

struct Args {
  std::string endpoint = "127.0.0.1:8125";
  std::string unix_path;
  double rate = 0;  // lines/s; 0 = as fast as possible
  double duration = 10;
  uint64_t max_lines = 0;  // 0 = no limit besides duration
  int batch = 64;          // datagrams per sendmmsg
  size_t pool = 0;         // distinct datagrams; 0 = DefaultPoolSize
  int sndbuf = 4 << 20;
  bool nonblock = false;
  int print = 0;
  double progress = 0;  // seconds between progress lines on stderr; 0 = none
  StatsdLoadOptions load;
};

[[noreturn]] void Usage(const char* why) {
  if (why) fprintf(stderr, "statsd_blaster: %s\n\n", why);
  fprintf(stderr,
          "usage: statsd_blaster [options]\n"
          "  --endpoint HOST:PORT     UDP target (default 127.0.0.1:8125; IPv4 or [IPv6])\n"
          "  --unixgram PATH          send to a unixgram socket instead\n"
          "  --rate N                 lines/s in total; 0 = as fast as possible (default 0)\n"
          "  --duration S             seconds (default 10, at most 3600)\n"
          "  --max-lines N            stop after N lines (rounded up to a datagram)\n"
          "  --lines-per-datagram N   (default 10)\n"
          "  --series N               distinct metric series: name + type + tags (default 1000)\n"
          "  --mix SPEC               type weights, e.g. c:40,g:20,ms:25,h:15 (default) or c:1;\n"
          "                           types c g ms h d s\n"
          "  --sampled F              fraction of c/ms/h/d series with @0.5 or @0.1 (default 0.25)\n"
          "  --tags N                 DogStatsD tags per line, 0 = plain StatsD (default 3)\n"
          "  --batch N                datagrams per sendmmsg (default 64, max 1024)\n"
          "  --pool N                 distinct pre-generated datagrams (default: 4 x series lines, 1Ki-64Ki)\n"
          "  --sndbuf BYTES           SO_SNDBUF (default 4 MiB)\n"
          "  --nonblock               do not block on a full socket; count refused datagrams as dropped\n"
          "  --seed N                 (default 1)\n"
          "  --progress S             a progress line on stderr every S seconds\n"
          "  --print N                print N datagrams and exit\n");
  exit(2);
}

double Num(const char* flag, const char* v) {
  char* end = nullptr;
  errno = 0;
  double d = strtod(v, &end);
  if (errno != 0 || end == v || *end != '\0' || d < 0) {
    fprintf(stderr, "statsd_blaster: %s: not a non-negative number: %s\n", flag, v);
    exit(2);
  }
  return d;
}

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string f = argv[i];
    if (f == "--help" || f == "-h") Usage(nullptr);
    if (f == "--nonblock") {
      a.nonblock = true;
      continue;
    }
    if (i + 1 >= argc) Usage(("missing value for " + f).c_str());
    const char* v = argv[++i];
    if (f == "--endpoint")
      a.endpoint = v;
    else if (f == "--unixgram")
      a.unix_path = v;
    else if (f == "--rate")
      a.rate = Num(f.c_str(), v);
    else if (f == "--duration")
      a.duration = Num(f.c_str(), v);
    else if (f == "--max-lines")
      a.max_lines = static_cast<uint64_t>(Num(f.c_str(), v));
    else if (f == "--lines-per-datagram")
      a.load.lines_per_datagram = static_cast<int>(Num(f.c_str(), v));
    else if (f == "--series")
      a.load.series = static_cast<int>(Num(f.c_str(), v));
    else if (f == "--mix")
      a.load.mix = v;
    else if (f == "--sampled")
      a.load.sampled_fraction = Num(f.c_str(), v);
    else if (f == "--tags")
      a.load.tags = static_cast<int>(Num(f.c_str(), v));
    else if (f == "--batch")
      a.batch = static_cast<int>(Num(f.c_str(), v));
    else if (f == "--pool")
      a.pool = static_cast<size_t>(Num(f.c_str(), v));
    else if (f == "--sndbuf")
      a.sndbuf = static_cast<int>(Num(f.c_str(), v));
    else if (f == "--seed")
      a.load.seed = static_cast<uint64_t>(Num(f.c_str(), v));
    else if (f == "--progress")
      a.progress = Num(f.c_str(), v);
    else if (f == "--print")
      a.print = static_cast<int>(Num(f.c_str(), v));
    else
      Usage(("unknown option " + f).c_str());
  }
  if (a.duration <= 0 || a.duration > 3600) Usage("--duration must be in (0, 3600]");
  if (a.load.lines_per_datagram < 1 || a.load.lines_per_datagram > 1000) Usage("--lines-per-datagram: 1..1000");
  if (a.load.series < 1 || a.load.series > 10000000) Usage("--series: 1..10000000");
  if (a.batch < 1 || a.batch > 1024) Usage("--batch: 1..1024");
  if (a.load.sampled_fraction > 1) Usage("--sampled: 0..1");
  return a;
}

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double CpuSeconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

void SleepUntil(double t) {
  timespec ts;
  ts.tv_sec = static_cast<time_t>(t);
  ts.tv_nsec = static_cast<long>((t - static_cast<double>(ts.tv_sec)) * 1e9);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR && !g_stop) {
  }
}

int OpenSocket(const Args& a, std::string* desc) {
  int fd;
  if (!a.unix_path.empty()) {
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | (a.nonblock ? SOCK_NONBLOCK : 0), 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (a.unix_path.size() >= sizeof(sa.sun_path)) Usage("--unixgram path too long");
    memcpy(sa.sun_path, a.unix_path.data(), a.unix_path.size());
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
      fprintf(stderr, "statsd_blaster: cannot connect to unixgram %s: %s\n", a.unix_path.c_str(), strerror(errno));
      exit(1);
    }
    *desc = "unixgram " + a.unix_path;
  } else {
    size_t colon = a.endpoint.rfind(':');
    if (colon == std::string::npos) Usage("--endpoint must be host:port");
    std::string host = a.endpoint.substr(0, colon);
    int port = atoi(a.endpoint.c_str() + colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty() || host == "localhost") host = "127.0.0.1";
    sockaddr_storage ss{};
    socklen_t len;
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, host.c_str(), &s4->sin_addr) == 1) {
      s4->sin_family = AF_INET;
      s4->sin_port = htons(static_cast<uint16_t>(port));
      len = sizeof(*s4);
    } else if (inet_pton(AF_INET6, host.c_str(), &s6->sin6_addr) == 1) {
      s6->sin6_family = AF_INET6;
      s6->sin6_port = htons(static_cast<uint16_t>(port));
      len = sizeof(*s6);
    } else {
      Usage("--endpoint host must be an IP address or localhost");
    }
    fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | (a.nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      fprintf(stderr, "statsd_blaster: cannot connect to udp %s: %s\n", a.endpoint.c_str(), strerror(errno));
      exit(1);
    }
    *desc = "udp " + a.endpoint;
  }
  if (a.sndbuf > 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &a.sndbuf, sizeof(a.sndbuf));
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = Parse(argc, argv);
  std::vector<outrigger::bench::MixEntry> mix;
  std::string err;
  if (!outrigger::bench::ParseMix(a.load.mix, &mix, &err)) Usage(err.c_str());
  auto series = outrigger::bench::MakeSeries(a.load, mix);
  size_t pool_size = a.pool > 0 ? a.pool : outrigger::bench::DefaultPoolSize(a.load);
  auto pool = outrigger::bench::MakeDatagrams(a.load, series, pool_size);
  if (a.print > 0) {
    for (int i = 0; i < a.print && static_cast<size_t>(i) < pool.size(); ++i)
      printf("%s\n--\n", pool[static_cast<size_t>(i)].c_str());
    return 0;
  }
  size_t pool_bytes = 0;
  for (const auto& d : pool) pool_bytes += d.size();

  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  signal(SIGPIPE, SIG_IGN);
  std::string desc;
  int fd = OpenSocket(a, &desc);

  const size_t B = static_cast<size_t>(a.batch);
  const uint64_t L = static_cast<uint64_t>(a.load.lines_per_datagram);
  std::vector<mmsghdr> msgs(B);
  std::vector<iovec> iovs(B);
  uint64_t lines = 0, datagrams = 0, bytes = 0, dropped = 0, errors = 0, calls = 0;
  int last_errno = 0;
  size_t next = 0;  // next pool index

  fprintf(stderr,
          "statsd_blaster: %s, %s lines/s, %.0fs, %d lines/datagram, %d series, mix %s, tags %d, "
          "%zu distinct datagrams (avg %zu B)\n",
          desc.c_str(), a.rate > 0 ? std::to_string(static_cast<uint64_t>(a.rate)).c_str() : "max", a.duration,
          a.load.lines_per_datagram, a.load.series, a.load.mix.c_str(), a.load.tags, pool.size(),
          pool_bytes / pool.size());

  const double cpu0 = CpuSeconds();
  const double t0 = Now(), deadline = t0 + a.duration;
  double next_progress = a.progress > 0 ? t0 + a.progress : 0;
  uint64_t progress_lines = 0;
  while (!g_stop) {
    double now = Now();
    if (now >= deadline) break;
    if (a.max_lines > 0 && lines >= a.max_lines) break;
    size_t n = B;
    if (a.max_lines > 0) n = std::min<uint64_t>(n, (a.max_lines - lines + L - 1) / L);
    if (a.rate > 0) {
      // Pace: the first line of this batch is due at t0 + lines / rate.
      double due = t0 + static_cast<double>(lines) / a.rate;
      if (due > now) {
        if (due >= deadline) break;
        SleepUntil(due);
        if (g_stop) break;
      }
    }
    for (size_t i = 0; i < n; ++i) {
      const std::string& d = pool[(next + i) % pool.size()];
      iovs[i] = {const_cast<char*>(d.data()), d.size()};
      msgs[i].msg_hdr = {};
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    size_t done = 0;
    while (done < n && !g_stop) {
      ++calls;
      int r = sendmmsg(fd, msgs.data() + done, static_cast<unsigned>(n - done), 0);
      if (r > 0) {
        for (size_t i = done; i < done + static_cast<size_t>(r); ++i) bytes += msgs[i].msg_len;
        done += static_cast<size_t>(r);
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && a.nonblock) {
        dropped += n - done;  // the receiver's queue is full: count and move on
        break;
      }
      if (r < 0 && (errno == ECONNREFUSED || errno == ENOBUFS)) {
        // UDP: an ICMP port unreachable from an earlier datagram (nobody listening yet),
        // or a transient lack of buffers. Count the datagram as not sent, skip it.
        ++errors;
        last_errno = errno;
        ++done;
        continue;
      }
      fprintf(stderr, "statsd_blaster: sendmmsg: %s\n", strerror(errno));
      g_stop = 1;
      break;
    }
    next = (next + n) % pool.size();
    datagrams += n;
    lines += n * L;
    if (next_progress > 0 && Now() >= next_progress) {
      fprintf(stderr, "statsd_blaster: %.1fs %llu lines (%.0f lines/s over the last period)\n", Now() - t0,
              static_cast<unsigned long long>(lines), static_cast<double>(lines - progress_lines) / a.progress);
      progress_lines = lines;
      next_progress += a.progress;
    }
  }
  const double secs = Now() - t0;
  const double cpu = CpuSeconds() - cpu0;
  close(fd);
  // Datagrams refused (nonblocking) or failed are not counted as sent.
  const uint64_t failed_dg = dropped + errors;
  const uint64_t sent_dg = datagrams - failed_dg;
  const uint64_t sent_lines = sent_dg * L;
  fprintf(stderr,
          "statsd_blaster: sent %llu lines in %llu datagrams (%llu B) in %.2fs = %.0f lines/s; "
          "%llu sendmmsg calls; dropped (EAGAIN) %llu, errors %llu%s%s; cpu %.2fs\n",
          static_cast<unsigned long long>(sent_lines), static_cast<unsigned long long>(sent_dg),
          static_cast<unsigned long long>(bytes), secs, static_cast<double>(sent_lines) / secs,
          static_cast<unsigned long long>(calls), static_cast<unsigned long long>(dropped),
          static_cast<unsigned long long>(errors), last_errno ? " last: " : "", last_errno ? strerror(last_errno) : "",
          cpu);
  printf(
      "RESULT lines_sent=%llu datagrams_sent=%llu bytes_sent=%llu seconds=%.3f lines_per_s=%.0f "
      "dropped_datagrams=%llu send_errors=%llu blaster_cpu_s=%.2f lines_per_datagram=%llu series=%d\n",
      static_cast<unsigned long long>(sent_lines), static_cast<unsigned long long>(sent_dg),
      static_cast<unsigned long long>(bytes), secs, static_cast<double>(sent_lines) / secs,
      static_cast<unsigned long long>(dropped), static_cast<unsigned long long>(errors), cpu,
      static_cast<unsigned long long>(L), a.load.series);
  return 0;
}
