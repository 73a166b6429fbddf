// Raw tail throughput of the filelog receiver: a big file of ~200-byte lines, read from
// the page cache by the real receiver (its own thread) into a sink that only counts
// (no encoding, no export). Prints MB/s per wall second and per CPU second, lines/s and
// peak RSS, and, to show where the time goes, the same file through the stages alone:
// read+split, +UTF-8 check and copy into a string, +pdata LogsBuilder through a LogRecord
// (two copies: the operators' path), and LogsBuilder::AddLine (one copy: the path of a
// receiver without operators).
//
//   filelog_bench [--size=1GiB] [--line=200] [--file=/tmp/filelog_bench.log] [--keep] [--no-stages]
//                 [--no-file-name] [--json | --json-ts]
//   (--keep: leave the file, and reuse it if it exists; --no-file-name: include_file_name
//   false (the default is true, as upstream's); --json: the file is JSON lines and the
//   receiver runs `json_parser` with `parse_to: body`; --json-ts: the same plus its
//   `timestamp` (gotime RFC 3339) and `severity` blocks)
//   taskset -c 0 build/bench/filelog_bench --size=1GiB
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "collector/config/node.h"
#include "collector/pdata/builders.h"
#include "collector/telemetry/telemetry.h"
#include "receivers/filelog/decoder.h"
#include "receivers/filelog/filelog_receiver.h"
#include "spdlog/spdlog.h"
#include "yaml-cpp/yaml.h"

using namespace outrigger;
using namespace outrigger::receivers::filelog;

namespace {

struct CountingSink : Consumer {
  std::atomic<uint64_t> records{0};
  absl::Status ConsumeLogs(pdata::Logs&& d) override {
    records += d.ItemCount();
    return absl::OkStatus();
  }
};

class NoHost : public Host {
 public:
  boost::asio::io_context& IoContext() override { std::abort(); }
  bool Ready() const override { return true; }
};

double CpuSeconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

long Status(const char* key) {  // kB from /proc/self/status
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::strlen(key));
  }
  return 0;
}

uint64_t MakeFile(const std::string& path, uint64_t size, size_t line_len, bool json) {
  FILE* f = std::fopen(path.c_str(), "w");
  std::string line;
  uint64_t written = 0, n = 0;
  while (written < size && json) {  // a structured application log line, ~240 bytes
    char l[512];
    int h = std::snprintf(l, sizeof(l),
                          R"({"ts":"2024-05-01T12:00:%02llu.%06lluZ","level":"%s","logger":"shop.checkout",)"
                          R"("msg":"order accepted","order_id":%llu,"total":%llu.%02llu,"http":{"method":"POST",)"
                          R"("path":"/api/orders","status":201},"trace_id":"4bf92f3577b34da6a3ce929d0e%06llu"})"
                          "\n",
                          static_cast<unsigned long long>(n / 1000000 % 60),
                          static_cast<unsigned long long>(n % 1000000), n % 10 == 0 ? "warn" : "info",
                          static_cast<unsigned long long>(n), static_cast<unsigned long long>(n % 500),
                          static_cast<unsigned long long>(n % 100), static_cast<unsigned long long>(n % 1000000));
    std::fwrite(l, 1, static_cast<size_t>(h), f);
    written += static_cast<uint64_t>(h);
    ++n;
  }
  while (written < size) {
    char head[64];
    int h = std::snprintf(head, sizeof(head), "2024-05-01T12:00:00.%06llu INFO [worker-%llu] request id=%llu ",
                          static_cast<unsigned long long>(n % 1000000), static_cast<unsigned long long>(n % 16),
                          static_cast<unsigned long long>(n));
    line.assign(head, h);
    while (line.size() + 1 < line_len) line.push_back(static_cast<char>('a' + (line.size() * 7 + n) % 26));
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), f);
    written += line.size();
    ++n;
  }
  std::fclose(f);
  return n;
}

template <typename F>
void Stage(const char* name, const std::string& path, uint64_t bytes, F&& per_line) {
  int fd = open(path.c_str(), O_RDONLY);
  std::string buf(256 * 1024, '\0');
  size_t len = 0;
  double c0 = CpuSeconds();
  auto t0 = std::chrono::steady_clock::now();
  uint64_t lines = 0;
  for (;;) {
    ssize_t n = read(fd, buf.data() + len, buf.size() - len);
    if (n <= 0) break;
    len += static_cast<size_t>(n);
    size_t pos = 0;
    while (const void* nl = std::memchr(buf.data() + pos, '\n', len - pos)) {
      size_t e = static_cast<const char*>(nl) - buf.data();
      per_line(std::string_view(buf.data() + pos, e - pos));
      ++lines;
      pos = e + 1;
    }
    std::memmove(buf.data(), buf.data() + pos, len - pos);
    len -= pos;
  }
  close(fd);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpu = CpuSeconds() - c0;
  std::printf("  %-44s %8.0f MB/s  %6.2f M lines/s  (cpu %.2fs)\n", name, bytes / 1e6 / cpu, lines / 1e6 / cpu, cpu);
  (void)secs;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t size = 1ull << 30;
  size_t line_len = 200;
  std::string path = "/tmp/filelog_bench.log";
  bool keep = false, stages = true, file_name = true, json = false, json_ts = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--size=", 0) == 0) size = *config::ParseBytes(a.substr(7));
    if (a.rfind("--line=", 0) == 0) line_len = std::stoul(a.substr(7));
    if (a.rfind("--file=", 0) == 0) path = a.substr(7);
    if (a == "--keep") keep = true;
    if (a == "--no-stages") stages = false;
    if (a == "--no-file-name") file_name = false;
    if (a == "--json") json = true;
    if (a == "--json-ts") json = json_ts = true;
  }
  spdlog::set_level(spdlog::level::warn);
  uint64_t lines = 0;
  struct stat st;
  if (keep && stat(path.c_str(), &st) == 0) {  // --keep: reuse the file of an earlier run
    size = static_cast<uint64_t>(st.st_size);
    std::ifstream f(path);
    std::string l;
    while (std::getline(f, l)) ++lines;
  } else {
    lines = MakeFile(path, size, line_len, json);
  }
  {  // warm the page cache
    int fd = open(path.c_str(), O_RDONLY);
    std::string buf(1 << 20, '\0');
    while (read(fd, buf.data(), buf.size()) > 0) {
    }
    close(fd);
  }
  long rss_before = Status("VmRSS:");
  std::printf("filelog_bench: %.0f MB, %llu lines of %zu bytes, %s (page cache warm); include_file_name %s%s\n",
              size / 1e6, static_cast<unsigned long long>(lines), json ? size / std::max<uint64_t>(lines, 1) : line_len,
              path.c_str(), file_name ? "true" : "false",
              json_ts ? ", json_parser to body + timestamp + severity"
              : json  ? ", json_parser to body"
                      : "");

  Telemetry telemetry;
  Config cfg;
  cfg.include = {path};
  cfg.start_at = "beginning";
  cfg.include_file_name = file_name;
  if (json) {
    std::string yaml = "operators:\n  - type: json_parser\n    parse_to: body\n";
    if (json_ts) {
      yaml +=
          "    timestamp: {parse_from: body.ts, layout_type: gotime, layout: '2006-01-02T15:04:05.999999999Z07:00'}\n"
          "    severity: {parse_from: body.level}\n";
    }
    config::Errors errors;
    YAML::Node root = YAML::Load(yaml);
    config::Node node(root, "receivers.filelog", &errors);
    cfg.operators.Decode(node);
    node.Finish();
    if (!errors.empty()) {
      std::fprintf(stderr, "%s\n", errors.Joined().c_str());
      return 1;
    }
  }
  CountingSink sink;
  CreateSettings settings{*ComponentId::Parse("filelog"), Kind::kReceiver, &telemetry,
                          spdlog::default_logger()->clone("filelog")};
  auto chain = operators::BuildChain(cfg.operators);
  FilelogReceiver r(settings, cfg, std::move(*chain));
  r.SetConsumers({nullptr, nullptr, &sink});
  NoHost host;
  double c0 = CpuSeconds();
  auto t0 = std::chrono::steady_clock::now();
  if (!r.Start(host).ok()) return 1;
  while (sink.records < lines) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpu = CpuSeconds() - c0;  // the receiver thread (+ this thread's light polling)
  (void)r.Shutdown(absl::Now() + absl::Seconds(5));
  long hwm = Status("VmHWM:");
  std::printf("receiver (read, split, UTF-8, LogRecord, chain, LogsBuilder, batches of %d):\n", cfg.max_batch_size);
  std::printf("  %.0f MB/s wall, %.0f MB/s per CPU-second, %.2f M lines/s wall; %.2fs wall, %.2f CPU-s\n",
              size / 1e6 / secs, size / 1e6 / cpu, lines / 1e6 / secs, secs, cpu);
  std::printf("  RSS before start %ld KiB, peak %ld KiB\n", rss_before, hwm);

  if (stages) {
    std::printf("stages alone (one thread, same file):\n");
    Stage("read + split (memchr)", path, size, [](std::string_view) {});
    std::string s;
    Stage("+ UTF-8 check and copy into a string", path, size, [&](std::string_view l) {
      s.clear();
      AppendValidUtf8(l, &s);
    });
    pdata::LogsBuilder b(pdata::Attributes{}, "bench");
    size_t in_batch = 0;
    Stage("+ LogRecord with log.file.name, LogsBuilder", path, size, [&](std::string_view l) {
      pdata::LogRecord rec;
      std::string body;
      AppendValidUtf8(l, &body);
      rec.body = pdata::Value(std::move(body));
      rec.attributes.emplace_back("log.file.name", pdata::Value("filelog_bench.log"));
      b.Add(rec);
      if (++in_batch == 1000) {
        (void)b.Build();
        in_batch = 0;
      }
    });
    pdata::LogsBuilder b2(pdata::Attributes{}, "bench");
    const pdata::ValueMap file_attrs{{"log.file.name", pdata::Value("filelog_bench.log")}};
    in_batch = 0;
    Stage("+ LogsBuilder::AddLine, UTF-8 straight in", path, size, [&](std::string_view l) {
      AppendValidUtf8(l, b2.AddLine(0, file_attrs));
      if (++in_batch == 1000) {
        (void)b2.Build();
        in_batch = 0;
      }
    });
  }
  if (!keep) unlink(path.c_str());
  return 0;
}
