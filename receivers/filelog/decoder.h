#pragma once
// Text encodings of log files: lines are split on the encoding's newline and each entry is
// turned into UTF-8, invalid input replaced by U+FFFD (never dropped).

#include <cstddef>
#include <string>
#include <string_view>

namespace outrigger::receivers::filelog {

class Decoder {
 public:
  enum class Kind { kUtf8, kUtf16Le, kUtf16Be, kLatin1, kAscii, kNop };
  // `name` as in the config (validated there); unknown names give UTF-8.
  explicit Decoder(std::string_view name);

  Kind kind() const { return kind_; }
  // Bytes per code unit (2 for UTF-16): lines start and end on unit boundaries.
  size_t unit() const { return unit_; }
  // Offset of the first newline unit in data[from, n) (`from` on a unit boundary), or npos.
  size_t FindNewline(const char* data, size_t from, size_t n) const;
  // Appends `in` (whole units) to `out` as UTF-8 (kNop: the bytes unchanged). Returns the
  // number of replacement characters written for invalid input.
  size_t Decode(std::string_view in, std::string* out) const;

 private:
  Kind kind_;
  size_t unit_;
};

// Appends valid UTF-8 for `in`, each invalid sequence replaced by U+FFFD.
size_t AppendValidUtf8(std::string_view in, std::string* out);

}  // namespace outrigger::receivers::filelog
