#include "receivers/filelog/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "collector/common/strings.h"

namespace outrigger::receivers::filelog {
namespace {

constexpr char kMagic[] = "outrigger-filelog-checkpoint v1";

// FNV-1a, to detect a damaged file (not an attack).
uint64_t Hash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string Errno(const char* what, const std::string& path) {
  return StrCat(what, " \"", path, "\": ", std::strerror(errno));
}

bool WriteAll(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    s.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

absl::Status WriteCheckpoint(const std::string& path, const std::vector<FileCheckpoint>& files) {
  std::string body;
  for (const auto& f : files) {
    StrAppend(&body, f.offset, " ", f.dev, " ", f.ino, " ", absl::BytesToHexString(f.fingerprint), " ",
              absl::BytesToHexString(f.path), "\n");
  }
  std::string text = StrCat(kMagic, "\n", files.size(), " ", Hash(body), "\n", body);
  const std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return absl::UnavailableError(Errno("cannot create", tmp));
  if (!WriteAll(fd, text) || fsync(fd) != 0) {
    auto st = absl::UnavailableError(Errno("cannot write", tmp));
    close(fd);
    return st;
  }
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) return absl::UnavailableError(Errno("cannot rename to", path));
  const size_t slash = path.rfind('/');
  const std::string dir = slash == 0 || slash == std::string::npos ? std::string("/") : path.substr(0, slash);
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<FileCheckpoint>> ReadCheckpoint(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(StrCat("no checkpoint at \"", path, "\""));
    return absl::UnavailableError(Errno("cannot open", path));
  }
  std::string text;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
  close(fd);
  auto damaged = [&](const char* why) {
    return absl::DataLossError(StrCat("checkpoint \"", path, "\" is damaged (", why, ")"));
  };
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (lines.size() < 2 || lines[0] != kMagic) return damaged("bad header");
  std::vector<std::string> head = absl::StrSplit(lines[1], ' ');
  uint64_t count, hash;
  if (head.size() != 2 || !absl::SimpleAtoi(head[0], &count) || !absl::SimpleAtoi(head[1], &hash)) {
    return damaged("bad count line");
  }
  size_t body_start = lines[0].size() + lines[1].size() + 2;
  if (body_start > text.size() || Hash(std::string_view(text).substr(body_start)) != hash) {
    return damaged("checksum mismatch");
  }
  std::vector<FileCheckpoint> out;
  for (size_t i = 2; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    std::vector<std::string> f = absl::StrSplit(lines[i], ' ');
    FileCheckpoint c;
    if (f.size() != 5 || !absl::SimpleAtoi(f[0], &c.offset) || !absl::SimpleAtoi(f[1], &c.dev) ||
        !absl::SimpleAtoi(f[2], &c.ino)) {
      return damaged("bad entry");
    }
    c.fingerprint = absl::HexStringToBytes(f[3]);
    c.path = absl::HexStringToBytes(f[4]);
    out.push_back(std::move(c));
  }
  if (out.size() != count) return damaged("entry count mismatch");
  return out;
}

}  // namespace outrigger::receivers::filelog
