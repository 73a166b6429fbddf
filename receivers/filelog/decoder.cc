#include "receivers/filelog/decoder.h"

#include <cstdint>
#include <cstring>

#include "collector/common/utf8.h"

namespace outrigger::receivers::filelog {
namespace {

constexpr const char* kReplacement = kUtf8Replacement;

// Length of the ASCII prefix of [p, p+n), 8 bytes at a time.
size_t AsciiPrefix(const unsigned char* p, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w & 0x8080808080808080ull) break;
  }
  while (i < n && p[i] < 0x80) ++i;
  return i;
}

}  // namespace

size_t AppendValidUtf8(std::string_view in, std::string* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const size_t n = in.size();
  size_t ascii = AsciiPrefix(p, n);
  if (ascii == n) {
    out->append(in);
    return 0;
  }
  out->reserve(out->size() + n + 8);
  out->append(in.data(), ascii);
  size_t bad = 0;
  size_t i = ascii;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      size_t run = AsciiPrefix(p + i, n - i);
      out->append(in.data() + i, run);
      i += run;
      continue;
    }
    // Expected length and the valid range of the second byte (RFC 3629 table).
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    }
    size_t k = 1;
    if (len != 0) {
      for (; k < len && i + k < n; ++k) {
        unsigned char b = p[i + k];
        if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
      }
    }
    if (len != 0 && k == len) {
      out->append(in.data() + i, len);
      i += len;
    } else {
      // A maximal invalid subpart becomes one U+FFFD.
      out->append(kReplacement);
      ++bad;
      i += k;
    }
  }
  return bad;
}

Decoder::Decoder(std::string_view name) {
  if (name == "utf-16le") {
    kind_ = Kind::kUtf16Le;
  } else if (name == "utf-16be") {
    kind_ = Kind::kUtf16Be;
  } else if (name == "latin-1" || name == "latin1" || name == "iso-8859-1") {
    kind_ = Kind::kLatin1;
  } else if (name == "ascii" || name == "us-ascii") {
    kind_ = Kind::kAscii;
  } else if (name == "nop") {
    kind_ = Kind::kNop;
  } else {
    kind_ = Kind::kUtf8;
  }
  unit_ = (kind_ == Kind::kUtf16Le || kind_ == Kind::kUtf16Be) ? 2 : 1;
}

size_t Decoder::FindNewline(const char* data, size_t from, size_t n) const {
  if (unit_ == 1) {
    const void* nl = std::memchr(data + from, '\n', n - from);
    return nl == nullptr ? std::string_view::npos : static_cast<const char*>(nl) - data;
  }
  const size_t lo_idx = kind_ == Kind::kUtf16Le ? 0 : 1;
  for (size_t i = from; i + 1 < n; i += 2) {
    if (data[i + lo_idx] == '\n' && data[i + 1 - lo_idx] == 0) return i;
  }
  return std::string_view::npos;
}

size_t Decoder::Decode(std::string_view in, std::string* out) const {
  switch (kind_) {
    case Kind::kUtf8:
      return AppendValidUtf8(in, out);
    case Kind::kNop:
      out->append(in);
      return 0;
    case Kind::kLatin1:
    case Kind::kAscii: {
      const auto* p = reinterpret_cast<const unsigned char*>(in.data());
      size_t ascii = AsciiPrefix(p, in.size());
      out->append(in.data(), ascii);
      size_t bad = 0;
      for (size_t i = ascii; i < in.size(); ++i) {
        if (p[i] < 0x80) {
          out->push_back(static_cast<char>(p[i]));
        } else if (kind_ == Kind::kLatin1) {
          AppendUtf8(p[i], out);
        } else {
          out->append(kReplacement);
          ++bad;
        }
      }
      return bad;
    }
    case Kind::kUtf16Le:
    case Kind::kUtf16Be: {
      const bool le = kind_ == Kind::kUtf16Le;
      const auto* p = reinterpret_cast<const unsigned char*>(in.data());
      const size_t n = in.size() & ~size_t{1};
      auto unit = [&](size_t i) -> uint32_t { return le ? (p[i] | (p[i + 1] << 8)) : ((p[i] << 8) | p[i + 1]); };
      size_t bad = 0;
      for (size_t i = 0; i < n; i += 2) {
        uint32_t u = unit(i);
        if (u >= 0xD800 && u <= 0xDBFF && i + 3 < n) {
          uint32_t u2 = unit(i + 2);
          if (u2 >= 0xDC00 && u2 <= 0xDFFF) {
            AppendUtf8(0x10000 + ((u - 0xD800) << 10) + (u2 - 0xDC00), out);
            i += 2;
            continue;
          }
        }
        if (u >= 0xD800 && u <= 0xDFFF) {
          out->append(kReplacement);
          ++bad;
          continue;
        }
        AppendUtf8(u, out);
      }
      if (in.size() & 1) {
        out->append(kReplacement);
        ++bad;
      }
      return bad;
    }
  }
  return 0;
}

}  // namespace outrigger::receivers::filelog
