#include "receivers/filelog/reader.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "receivers/filelog/wire_logs.h"

namespace outrigger::receivers::filelog {
namespace {

std::string BaseName(const std::string& p) {
  size_t i = p.rfind('/');
  return i == std::string::npos ? p : p.substr(i + 1);
}

std::string RealPath(const std::string& p) {
  char buf[PATH_MAX];
  if (realpath(p.c_str(), buf) == nullptr) return p;
  return buf;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

ssize_t PreadAll(int fd, char* buf, size_t n, uint64_t off) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, buf + got, n - got, static_cast<off_t>(off + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(got);
}

bool Matches(const RE2& re, const std::string& s, re2::StringPiece* m) {
  return re.Match(s, 0, s.size(), RE2::UNANCHORED, m, 1);
}

}  // namespace

Framing::Framing(const Config& c) : cfg(c), dec(c.encoding), passthrough(c.operators.ops.empty()) {
  if (!cfg.multiline.line_start_pattern.empty()) start_re = std::make_unique<RE2>(cfg.multiline.line_start_pattern);
  if (!cfg.multiline.line_end_pattern.empty()) end_re = std::make_unique<RE2>(cfg.multiline.line_end_pattern);
  for (const auto& [k, v] : cfg.attributes) config_attrs.emplace_back(k, pdata::Value(v));
}

void Buffer::Reserve(size_t want) {
  if (want <= cap) return;
  size_t n = std::max(want, cap * 2);
  // Not zeroed: reads fill it (zeroing a read chunk was most of what a quiet file cost:
  // its buffer is released at the end of each burst and taken again for the next).
  auto d = std::make_unique_for_overwrite<char[]>(n);
  if (len > 0) std::memcpy(d.get(), data.get(), len);
  data = std::move(d);
  cap = n;
}

std::optional<std::string> ReadHead(int fd, uint64_t size, uint64_t max) {
  std::string h(std::min<uint64_t>(size, max), '\0');
  ssize_t n = PreadAll(fd, h.data(), h.size(), 0);
  if (n < 0) return std::nullopt;
  h.resize(static_cast<size_t>(n));
  return h;
}

FileReader::FileReader(const Framing& framing, Stats& stats, ReaderSink& sink, int fd)
    : framing_(framing), cfg_(framing.cfg), stats_(stats), sink_(sink), fd_(fd) {}

FileReader::~FileReader() {
  if (fd_ >= 0) close(fd_);
}

void FileReader::SetPath(const std::string& p) {
  path = p;
  resolved = RealPath(p);
  attrs.clear();
  for (const auto& a : framing_.config_attrs) attrs.push_back(a);
  if (cfg_.include_file_name) attrs.emplace_back("log.file.name", BaseName(p));
  if (cfg_.include_file_path) attrs.emplace_back("log.file.path", p);
  if (cfg_.include_file_name_resolved) attrs.emplace_back("log.file.name_resolved", BaseName(resolved));
  if (cfg_.include_file_path_resolved) attrs.emplace_back("log.file.path_resolved", resolved);
  attrs_wire.clear();
  WireLogsBuilder::EncodeAttributes(attrs, &attrs_wire);
}

std::optional<std::string> FileReader::Head(uint64_t size) {
  std::optional<std::string> h = ReadHead(fd_, size, cfg_.fingerprint_size);
  if (!h) {
    Stats::Count(stats_.counters.read_errors, stats_.metrics.read_errors);
    stats_.Error(absl::StrCat("cannot read the start of \"", path, "\": ", std::strerror(errno)));
  }
  return h;
}

void FileReader::Restart(std::string new_head) {
  read_offset = buf_offset = 0;
  committed = 0;  // the new content: nothing of it was accepted yet
  buf.len = 0;
  scan_from = 0;
  extract_pending_ = false;
  fp = std::move(new_head);
  at_eof = false;
}

void FileReader::CheckIdentity(const struct stat& st) {
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  if (size < read_offset) {
    // Truncated (the size says so); a new head that cannot be read grows as it is read.
    sink_.Truncated(*this, Head(size).value_or(std::string()));
  } else if (size != last_size || mtime != last_mtime_ns || fp.size() < cfg_.fingerprint_size) {
    if (size > fp.size() || size != last_size || mtime != last_mtime_ns) {
      std::optional<std::string> head = Head(size);
      if (!head) return;  // unknown: checked again at the next scan (size and mtime not taken)
      if (head->size() < fp.size() || head->compare(0, fp.size(), fp) != 0) {
        sink_.Truncated(*this, *head);
      } else {
        fp = std::move(*head);
      }
    }
  }
  last_size = size;
  last_mtime_ns = mtime;
}

void FileReader::AtEof() {
  if (!at_eof) {
    at_eof = true;
    eof_since = absl::Now();
  }
}

bool FileReader::ReadSome() {
  bool got = false;
  if (extract_pending_) {
    // Records left in the buffer when the sink was full last time come first: the buffer
    // never holds more than a chunk beyond a partial line.
    extract_pending_ = !Extract(/*stop_when_full=*/true);
    got = true;
  }
  size_t budget = kReadBudgetPerFile;
  while (budget > 0 && !sink_.Full() && !extract_pending_) {
    buf.Reserve(buf.len + kReadChunk);
    ssize_t n = pread(fd_, buf.data.get() + buf.len, buf.cap - buf.len, static_cast<off_t>(read_offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Stats::Count(stats_.counters.read_errors, stats_.metrics.read_errors);
      stats_.Error(absl::StrCat("cannot read \"", path, "\": ", std::strerror(errno)));
      // Like an end of file: a file rotated away whose reads keep failing is closed after
      // its grace period (not held open forever).
      AtEof();
      break;
    }
    if (n == 0) {
      AtEof();
      struct stat st;
      if (fstat(fd_, &st) == 0 && static_cast<uint64_t>(st.st_size) < read_offset) {
        sink_.Truncated(*this, Head(static_cast<uint64_t>(st.st_size)).value_or(std::string()));
        continue;
      }
      break;
    }
    got = true;
    at_eof = false;
    eof_since = absl::InfiniteFuture();
    size_t skip = read_offset == 0 && buf.len == 0 ? BomSize(static_cast<size_t>(n)) : 0;
    if (skip > 0) {
      std::memmove(buf.data.get(), buf.data.get() + skip, static_cast<size_t>(n) - skip);
      buf_offset += skip;
    }
    buf.len += static_cast<size_t>(n) - skip;
    read_offset += static_cast<uint64_t>(n);
    last_data = absl::Now();
    if (fp.size() < cfg_.fingerprint_size && fp.size() < read_offset) {
      // The fingerprint grows with what we read, so that a truncation or a copy found
      // before the next scan is still recognised.
      std::optional<std::string> head = Head(std::min<uint64_t>(read_offset, cfg_.fingerprint_size));
      if (head && head->compare(0, fp.size(), fp) == 0) fp = std::move(*head);
    }
    budget -= std::min(budget, static_cast<size_t>(n));
    extract_pending_ = !Extract(/*stop_when_full=*/true);
  }
  if (at_eof && buf.len == 0 && buf.cap > 0) buf.Release();  // idle files hold no buffer
  return got;
}

size_t FileReader::BomSize(size_t n) const {
  const auto* p = reinterpret_cast<const unsigned char*>(buf.data.get());
  const Decoder::Kind k = framing_.dec.kind();
  if (k == Decoder::Kind::kUtf8 && n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) return 3;
  if (k == Decoder::Kind::kUtf16Le && n >= 2 && p[0] == 0xFF && p[1] == 0xFE) return 2;
  if (k == Decoder::Kind::kUtf16Be && n >= 2 && p[0] == 0xFE && p[1] == 0xFF) return 2;
  return 0;
}

size_t FileReader::Cut(const char* data, size_t pos, size_t limit) const {
  const Decoder& dec = framing_.dec;
  size_t n = cfg_.max_log_size;
  n -= n % dec.unit();
  if (n == 0) n = dec.unit();
  if (dec.kind() == Decoder::Kind::kUtf8) {
    // Not inside a UTF-8 sequence.
    size_t k = n;
    for (int i = 0; i < 3 && k > 1 && (static_cast<unsigned char>(data[pos + k]) & 0xC0) == 0x80; ++i) --k;
    if (pos + k < limit && (static_cast<unsigned char>(data[pos + k]) & 0xC0) != 0x80) n = k;
  }
  return n;
}

bool FileReader::Extract(bool stop_when_full) {
  char* data = buf.data.get();
  const size_t len = buf.len;
  const size_t unit = framing_.dec.unit();
  size_t pos = 0;
  bool done = true;
  for (;;) {
    if (stop_when_full && sink_.Full()) {
      done = false;
      break;
    }
    size_t nl = framing_.dec.FindNewline(data, scan_from, len);
    size_t line_end = nl == std::string_view::npos ? len - (len - pos) % unit : nl;
    // Overlong: cut into pieces of max_log_size.
    while (done && line_end - pos > cfg_.max_log_size) {
      if (stop_when_full && sink_.Full()) {
        // The rest of the line up to scan_from holds no newline: searched from there next time.
        scan_from = std::max(scan_from, pos);
        done = false;
        break;
      }
      size_t n = Cut(data, pos, len);
      Line(std::string_view(data + pos, n), buf_offset + pos, buf_offset + pos + n);
      Stats::Count(stats_.counters.lines_truncated, stats_.metrics.lines_truncated);
      pos += n;
    }
    if (!done) break;
    if (nl == std::string_view::npos) {
      scan_from = line_end;
      break;
    }
    Line(std::string_view(data + pos, nl - pos), buf_offset + pos, buf_offset + nl + unit);
    pos = nl + unit;
    scan_from = pos;
  }
  if (pos > 0) {
    std::memmove(data, data + pos, len - pos);
    buf.len = len - pos;
    buf_offset += pos;
    scan_from -= pos;
  }
  return done;
}

void FileReader::FlushPartial() {
  if (extract_pending_) {
    // Whole lines and pieces first; the sink takes them whatever its fill.
    Extract(/*stop_when_full=*/false);
    extract_pending_ = false;
  }
  if (buf.len > 0) {
    size_t n = buf.len;
    Line(std::string_view(buf.data.get(), n), buf_offset, buf_offset + n);
    buf_offset += n;
    buf.len = 0;
    scan_from = 0;
  }
  EmitAcc();
}

void FileReader::Trim(std::string* text) const {
  if (!cfg_.preserve_trailing_whitespaces) {
    size_t n = text->size();
    while (n > 0 && IsSpace((*text)[n - 1])) --n;
    text->resize(n);
  }
  if (!cfg_.preserve_leading_whitespaces) {
    size_t i = 0;
    while (i < text->size() && IsSpace((*text)[i])) ++i;
    if (i > 0) text->erase(0, i);
  }
}

void FileReader::Decode(std::string_view bytes, std::string* text) {
  size_t bad = framing_.dec.Decode(bytes, text);
  if (bad > 0) Stats::Count(stats_.counters.decode_errors, stats_.metrics.decode_errors, bad);
}

void FileReader::Emit(std::string&& text, uint64_t start, uint64_t end) {
  Trim(&text);
  if (framing_.passthrough) {
    std::string* line = sink_.NewLine(*this);
    *line = std::move(text);
    sink_.Filled(line->size());
    return;
  }
  sink_.Emit(*this, std::move(text), start, end);
}

void FileReader::EmitAcc() {
  if (!acc_active) return;
  acc_active = false;
  Emit(std::move(acc), acc_start, acc_end);
  acc = std::string();
}

void FileReader::StartAcc(std::string&& line, uint64_t start, uint64_t end) {
  acc = std::move(line);
  acc_active = true;
  acc_start = start;
  acc_end = end;
}

void FileReader::Line(std::string_view bytes, uint64_t start, uint64_t end) {
  const RE2* start_re = framing_.start_re.get();
  const RE2* end_re = framing_.end_re.get();
  if (start_re == nullptr && end_re == nullptr) {
    if (framing_.dec.unit() == 1) {
      // Trim before copying (the same as after: one-byte encodings decode ASCII
      // whitespace to itself and nothing else to it).
      if (!cfg_.preserve_trailing_whitespaces) {
        while (!bytes.empty() && IsSpace(bytes.back())) bytes.remove_suffix(1);
      }
      if (!cfg_.preserve_leading_whitespaces) {
        while (!bytes.empty() && IsSpace(bytes.front())) bytes.remove_prefix(1);
      }
      if (framing_.passthrough) {
        // The common case: the line is copied once, from the read buffer into its record.
        std::string* line = sink_.NewLine(*this);
        Decode(bytes, line);
        sink_.Filled(line->size());
        return;
      }
    }
    // Decoded into a buffer kept between lines: a sink that encodes the line itself
    // leaves it (no allocation per line); one that takes it moves it away.
    line_buf_.clear();
    Decode(bytes, &line_buf_);
    Emit(std::move(line_buf_), start, end);
    return;
  }
  std::string line;
  Decode(bytes, &line);
  re2::StringPiece m;
  if (start_re != nullptr) {
    if (Matches(*start_re, line, &m)) {
      EmitAcc();
      if (cfg_.multiline.omit_pattern) line.erase(m.data() - line.data(), m.size());
      StartAcc(std::move(line), start, end);
    } else if (acc_active) {
      acc.push_back('\n');
      acc.append(line);
      acc_end = end;
    } else {
      StartAcc(std::move(line), start, end);
    }
  } else {
    bool is_end = Matches(*end_re, line, &m);
    if (is_end && cfg_.multiline.omit_pattern) line.erase(m.data() - line.data(), m.size());
    if (acc_active) {
      acc.push_back('\n');
      acc.append(line);
      acc_end = end;
    } else {
      StartAcc(std::move(line), start, end);
    }
    if (is_end) EmitAcc();
  }
  if (acc_active && acc.size() >= cfg_.max_log_size) {
    Stats::Count(stats_.counters.lines_truncated, stats_.metrics.lines_truncated);
    EmitAcc();
  }
}

}  // namespace outrigger::receivers::filelog
