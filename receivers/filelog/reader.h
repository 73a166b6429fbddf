#pragma once
// Reading one file for the filelog receiver: its identity (device, inode and fingerprint:
// its first bytes), reading it from an offset, decoding, and splitting it into records
// (lines, multiline records, pieces of overlong lines) handed to a ReaderSink with their
// byte ranges. A reader never decides what is committed: it records where the bytes it
// has not made into records begin (Unemitted()); the committer does the rest.
//
// Used only by the receiver's reading thread.

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "collector/pdata/builders.h"
#include "re2/re2.h"
#include "receivers/filelog/config.h"
#include "receivers/filelog/decoder.h"
#include "receivers/filelog/stats.h"

namespace outrigger::receivers::filelog {

class FileReader;

// Where a reader's records go (the receiver: into a batch, or through the operators).
class ReaderSink {
 public:
  virtual ~ReaderSink() = default;
  // The body of a new record without operators, to be filled (one copy: from the read
  // buffer into the record).
  virtual std::string* NewLine(FileReader& r) = 0;
  // A record for the operator chain: its text and its bytes [start, end) in the file.
  virtual void Emit(FileReader& r, std::string&& text, uint64_t start, uint64_t end) = 0;
  // The record NewLine() gave was filled with `bytes` bytes.
  virtual void Filled(size_t bytes) = 0;
  // Whether a whole batch waits to be sent (max_batch_size records or
  // max_batch_size_bytes): reading stops.
  virtual bool Full() const = 0;
  // `r` was found truncated; `new_head` is its start now. The sink flushes what `r`
  // holds, remembers the old content, and calls r.Restart(new_head).
  virtual void Truncated(FileReader& r, std::string new_head) = 0;
};

// How bytes become records, the same for every file of a receiver: the configuration
// made into a decoder and patterns, and the attributes every record gets.
struct Framing {
  explicit Framing(const Config& cfg);
  const Config& cfg;
  Decoder dec;
  std::unique_ptr<RE2> start_re, end_re;
  bool passthrough;  // no operators: lines go straight into pdata
  std::vector<std::pair<std::string, pdata::Value>> config_attrs;
};

// A growable byte buffer that is not zero-filled when it grows.
struct Buffer {
  std::unique_ptr<char[]> data;
  size_t cap = 0, len = 0;
  void Reserve(size_t want);
  void Release() {
    data.reset();
    cap = len = 0;
  }
};

// The first bytes of a file (up to `max`, and `size`); nullopt on a read error (errno
// set), which must never look like a truncation (an empty head).
std::optional<std::string> ReadHead(int fd, uint64_t size, uint64_t max);

class FileReader {
 public:
  static constexpr size_t kReadChunk = 256 * 1024;           // bytes per read(2)
  static constexpr size_t kReadBudgetPerFile = 1024 * 1024;  // per file and pass, for fairness

  // Takes `fd` (closed by the destructor).
  FileReader(const Framing& framing, Stats& stats, ReaderSink& sink, int fd);
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  // Names the file `path` (as matched): resolves links and sets the file attributes.
  void SetPath(const std::string& path);

  // Reads what the file has (up to the per-pass budget, or until the sink is Full()) and
  // makes records of the whole lines. Returns true if bytes came.
  bool ReadSome();
  // The last partial line and the multiline record being built become records.
  void FlushPartial();
  // Whether the file still holds the content being read, given its stat: else the sink
  // hears Truncated(). A fingerprint shorter than fingerprint_size grows here.
  void CheckIdentity(const struct stat& st);
  // Reads the content again from its start (after a truncation): `new_head` is its start.
  void Restart(std::string new_head);
  // The first bytes now (up to fingerprint_size): a read error is counted and logged.
  std::optional<std::string> Head(uint64_t size);

  int fd() const { return fd_; }
  bool IsIdle() const { return buf.len == 0 && !acc_active; }
  // The first byte not yet handed to the sink.
  uint64_t Unemitted() const { return acc_active ? acc_start : buf_offset; }

  // Identity and position; read and set by the receiver and the committer.
  uint64_t dev = 0, ino = 0;
  std::string path;          // as matched
  std::string resolved;      // symbolic links resolved
  std::string fp;            // first bytes, up to fingerprint_size
  uint64_t read_offset = 0;  // next byte to read
  uint64_t buf_offset = 0;   // file offset of buf's first byte
  uint64_t last_size = 0;
  int64_t last_mtime_ns = 0;
  absl::Time last_data = absl::InfinitePast();  // last time bytes arrived
  bool at_eof = false;
  absl::Time eof_since = absl::InfiniteFuture();
  bool matched = true;     // found by the last scan
  uint64_t committed = 0;  // everything before it was accepted by the pipeline
  // Names the file had before renames while the chain still held entries under them
  // (held entries are keyed by the path they were read under).
  std::vector<std::string> old_paths;
  pdata::ValueMap attrs;   // per record: config attributes + log.file.*
  std::string attrs_wire;  // the same encoded once (WireLogsBuilder::EncodeAttributes)

 private:
  // Makes records of the whole lines (and max_log_size pieces) in the buffer. With
  // `stop_when_full`, stops when the sink is Full() and returns false: the rest waits
  // in the buffer (ReadSome takes it before reading more).
  bool Extract(bool stop_when_full);
  void Line(std::string_view bytes, uint64_t start, uint64_t end);
  void Emit(std::string&& text, uint64_t start, uint64_t end);
  void EmitAcc();
  void StartAcc(std::string&& line, uint64_t start, uint64_t end);
  void Decode(std::string_view bytes, std::string* text);
  void Trim(std::string* text) const;
  size_t Cut(const char* data, size_t pos, size_t limit) const;
  size_t BomSize(size_t n) const;
  void AtEof();

  const Framing& framing_;
  const Config& cfg_;
  Stats& stats_;
  ReaderSink& sink_;
  int fd_;
  Buffer buf;                     // bytes [buf_offset, read_offset) not yet made into records
  size_t scan_from = 0;           // in buf: bytes before it hold no newline
  bool extract_pending_ = false;  // buf holds records not made yet (the sink was full)
  // Multiline record being built (decoded text).
  bool acc_active = false;
  std::string acc;
  uint64_t acc_start = 0, acc_end = 0;
  std::string line_buf_;  // a line's decoded text, reused when the sink leaves it
};

// Open files by open order (the order they are read in).
using Readers = std::map<uint64_t, std::unique_ptr<FileReader>>;

}  // namespace outrigger::receivers::filelog
