#include "exporters/file/file_exporter.h"

#include <sys/stat.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace outrigger::exporters::file {
namespace asio = boost::asio;

namespace {

FileWriter::Options WriterOptions(const Config& cfg) {
  FileWriter::Options o;
  o.path = cfg.path;
  o.truncate = !cfg.append;
  if (cfg.rotation.enabled) {
    o.max_bytes = static_cast<uint64_t>(cfg.rotation.max_megabytes) << 20;
    o.max_days = cfg.rotation.max_days;
    o.max_backups = cfg.rotation.max_backups;
    o.localtime = cfg.rotation.localtime;
  }
  return o;
}

// Creates the directories of `path`'s parent that are missing, with `mode`.
absl::Status MakeDirectories(const std::string& path, unsigned mode) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return absl::OkStatus();
  const std::string dir = path.substr(0, slash);
  for (size_t at = dir.find('/', 1);; at = dir.find('/', at + 1)) {
    const std::string part = dir.substr(0, at);  // the whole dir once `at` is npos
    if (!part.empty() && part.back() != '/' && ::mkdir(part.c_str(), static_cast<mode_t>(mode)) != 0 &&
        errno != EEXIST) {
      return absl::FailedPreconditionError(
          StrCat("cannot create the directory \"", part, "\" (create_directory): ", std::strerror(errno)));
    }
    if (at == std::string::npos) break;
  }
  return absl::OkStatus();
}

void PutLength(uint32_t n, std::string* out) {
  out->push_back(static_cast<char>(n >> 24));
  out->push_back(static_cast<char>(n >> 16));
  out->push_back(static_cast<char>(n >> 8));
  out->push_back(static_cast<char>(n));
}

}  // namespace

FilePusher::FilePusher(const CreateSettings&, const Config& cfg)
    : path_(cfg.path),
      max_line_size_(static_cast<size_t>(cfg.max_line_size)),
      proto_(cfg.format == "proto"),
      zstd_(cfg.compression == "zstd"),
      buffered_(cfg.flush_interval > absl::ZeroDuration()),
      flush_interval_(cfg.flush_interval),
      create_directory_(cfg.create_directory),
      directory_mode_(cfg.DirectoryMode()),
      writer_(WriterOptions(cfg)) {}

FilePusher::~FilePusher() { (void)Shutdown(); }

absl::Status FilePusher::Start(Host& host) {
  if (create_directory_) {
    if (absl::Status st = MakeDirectories(path_, directory_mode_); !st.ok()) return st;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (absl::Status st = writer_.Open(); !st.ok()) return st;
  }
  if (buffered_) ticker_.Start(host.IoContext(), flush_interval_, [this] { FlushBuffered(); });
  return absl::OkStatus();
}

absl::Status FilePusher::Shutdown() {
  ticker_.Stop();  // waits for a flush it is running
  std::lock_guard<std::mutex> lock(mu_);
  writer_.Close();
  return absl::OkStatus();
}

void FilePusher::FlushBuffered() {
  std::lock_guard<std::mutex> lock(mu_);
  if (writer_.is_open()) (void)writer_.Flush();  // a failure is retried at the next flush
}

absl::StatusOr<std::string> FilePusher::Record(const Encode& json, const Proto& proto) {
  std::string payload;
  if (proto_) {
    auto p = proto();
    if (!p.ok()) return p.status();
    payload = std::move(*p);
  } else {
    absl::Status st = json([&](std::string_view chunk) {
      payload.append(chunk);
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
  }
  if (!proto_ && !zstd_) {
    payload.push_back('\n');
    return payload;
  }
  std::string record;
  if (zstd_) {
    record.resize(4 + ZSTD_compressBound(payload.size()));
    size_t n = ZSTD_compress(record.data() + 4, record.size() - 4, payload.data(), payload.size(), ZSTD_CLEVEL_DEFAULT);
    if (ZSTD_isError(n)) return absl::InternalError(StrCat("zstd compression failed: ", ZSTD_getErrorName(n)));
    record.resize(4 + n);
    std::string prefix;
    PutLength(static_cast<uint32_t>(n), &prefix);
    record.replace(0, 4, prefix);
  } else {
    record.reserve(4 + payload.size());
    PutLength(static_cast<uint32_t>(payload.size()), &record);
    record.append(payload);
  }
  return record;
}

absl::Status FilePusher::Write(const Encode& json, const Proto& proto) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!writer_.is_open()) return absl::FailedPreconditionError("file exporter is not started");
  const bool streamed = !proto_ && !zstd_;
  absl::Status status;
  bool write_failed = false;
  uint64_t start = writer_.size();
  if (streamed && !writer_.rotates()) {
    // Streamed as it is encoded: memory does not grow with the request.
    status = json([&](std::string_view chunk) {
      absl::Status st = writer_.Append(chunk);
      write_failed = write_failed || !st.ok();
      return st;
    });
    if (status.ok()) {
      status = writer_.Append("\n");
      write_failed = !status.ok();
    }
  } else {
    auto record = Record(json, proto);
    if (!record.ok()) {
      status = record.status();
    } else if (status = writer_.Reserve(record->size()); status.ok()) {
      start = writer_.size();  // after a rotation, the new file's start
      status = writer_.Append(*record);
      write_failed = !status.ok();
    } else {
      return status;  // nothing of the record was written
    }
  }
  if (status.ok() && !buffered_) {
    status = writer_.Flush();
    write_failed = !status.ok();
  }
  if (status.ok()) return status;
  // Nothing of the failed record stays.
  if (absl::Status cut = writer_.Cut(start); !cut.ok()) return cut;
  // A full disk may clear up: retryable. A record over the limit never fits: permanent.
  if (write_failed) return status;
  return absl::InvalidArgumentError(
      StrCat(status.message(), ": max_line_size of the file exporter for \"", path_, "\"; the request is dropped"));
}

}  // namespace outrigger::exporters::file
