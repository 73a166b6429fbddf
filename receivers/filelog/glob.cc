#include "receivers/filelog/glob.h"

#include <dirent.h>
#include <fnmatch.h>
#include <sys/stat.h>

namespace outrigger::receivers::filelog {
namespace {

constexpr int kMaxDepth = 64;

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool HasMagic(std::string_view s) { return s.find_first_of("*?[\\") != std::string_view::npos; }

std::string Join(const std::string& dir, std::string_view name) {
  std::string out = dir;
  if (out.empty() || out.back() != '/') out.push_back('/');
  out.append(name);
  return out;
}

bool MatchComponent(const std::string& pattern, std::string_view name) {
  std::string n(name);
  return fnmatch(pattern.c_str(), n.c_str(), 0) == 0;
}

}  // namespace

Glob::Glob(std::string_view pattern) : pattern_(pattern) {
  for (auto p : Split(pattern)) parts_.emplace_back(p);
}

std::string Glob::Absolute(std::string_view pattern, std::string_view cwd) {
  if (pattern.empty() || pattern[0] == '/') return std::string(pattern);
  std::vector<std::string_view> parts = Split(cwd);
  for (std::string_view p : Split(pattern)) {
    if (p == ".") continue;
    if (p == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(p);
  }
  std::string out(1, '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out.push_back('/');
    out.append(parts[i].data(), parts[i].size());
  }
  if (pattern.back() == '/') out.push_back('/');  // still refused by Check, as before
  return out;
}

std::string Glob::Check(std::string_view pattern) {
  if (pattern.empty() || pattern[0] != '/') return "must be an absolute path";
  for (auto p : Split(pattern)) {
    if (p == "." || p == "..") return "must not contain . or .. components";
    if (p != "**" && p.find("**") != std::string_view::npos) return "** must be a whole path component (a/**/b)";
    int depth = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] == '\\') {
        ++i;
      } else if (p[i] == '[') {
        ++depth;
      } else if (p[i] == ']' && depth > 0) {
        --depth;
      }
    }
    if (depth != 0) return "unclosed [";
  }
  if (!pattern.empty() && pattern.back() == '/') return "must name files, not a directory (add /* or /**/*)";
  return "";
}

bool Glob::Match(std::string_view path) const {
  auto parts = Split(path);
  return MatchFrom(0, parts, 0);
}

bool Glob::MatchFrom(size_t pi, const std::vector<std::string_view>& parts, size_t si) const {
  while (pi < parts_.size()) {
    if (parts_[pi] == "**") {
      // Zero or more components.
      for (size_t k = si; k <= parts.size(); ++k) {
        if (MatchFrom(pi + 1, parts, k)) return true;
      }
      return false;
    }
    if (si >= parts.size() || !MatchComponent(parts_[pi], parts[si])) return false;
    ++pi;
    ++si;
  }
  return si == parts.size();
}

void Glob::Expand(std::vector<std::string>* out, const std::function<void(const std::string&)>& on_dir) const {
  // The literal prefix is walked without listing directories.
  std::string dir = "/";
  size_t pi = 0;
  while (pi + 1 < parts_.size() && !HasMagic(parts_[pi])) {
    dir = Join(dir, parts_[pi]);
    ++pi;
  }
  struct stat st;
  // Missing: nothing matches yet; watch the deepest existing directory for it to appear.
  // After each watch, look again: what was created before the watch reports no event.
  std::string watched;
  while (pi > 0 && stat(dir.c_str(), &st) != 0) {
    std::string up = dir;
    bool found = false;
    while (up.size() > 1 && !(found = stat(up.c_str(), &st) == 0)) {
      size_t slash = up.rfind('/');
      up.resize(slash == 0 ? 1 : slash);
    }
    // Down to "/" without finding one: stat it too (st holds nothing valid otherwise).
    if (!found) found = stat(up.c_str(), &st) == 0;
    if (!found || !S_ISDIR(st.st_mode) || up == watched) return;  // watched: its events will tell
    on_dir(up);
    watched = up;
  }
  ExpandFrom(dir, pi, out, on_dir, 0);
}

void Glob::ExpandFrom(const std::string& dir, size_t pi, std::vector<std::string>* out,
                      const std::function<void(const std::string&)>& on_dir, int depth) const {
  if (depth > kMaxDepth || pi >= parts_.size()) return;
  struct stat st;
  const std::string& part = parts_[pi];
  const bool last = pi + 1 == parts_.size();
  if (part == "**") {
    // Zero directories here, then one more level for each subdirectory. A trailing **
    // matches every file below.
    on_dir(dir);
    if (!last) ExpandFrom(dir, pi + 1, out, on_dir, depth + 1);
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return;
    std::vector<std::string> subdirs;
    while (dirent* e = readdir(d)) {
      std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string p = Join(dir, name);
      if (lstat(p.c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        subdirs.push_back(std::move(p));
      } else if (last && stat(p.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
        out->push_back(std::move(p));
      }
    }
    closedir(d);
    for (const auto& s : subdirs) {
      on_dir(s);
      ExpandFrom(s, pi, out, on_dir, depth + 1);
    }
    return;
  }
  if (!HasMagic(part)) {
    std::string p = Join(dir, part);
    if (stat(p.c_str(), &st) != 0) {
      on_dir(dir);  // watch for the file (or a missing directory on the way) to appear
      return;
    }
    if (last) {
      on_dir(dir);
      if (!S_ISDIR(st.st_mode)) out->push_back(std::move(p));
    } else if (S_ISDIR(st.st_mode)) {
      ExpandFrom(p, pi + 1, out, on_dir, depth + 1);
    }
    return;
  }
  on_dir(dir);
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> next;
  while (dirent* e = readdir(d)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    if (MatchComponent(part, name)) next.push_back(Join(dir, name));
  }
  closedir(d);
  for (auto& p : next) {
    if (stat(p.c_str(), &st) != 0) continue;
    if (last) {
      if (!S_ISDIR(st.st_mode)) out->push_back(std::move(p));
    } else if (S_ISDIR(st.st_mode)) {
      ExpandFrom(p, pi + 1, out, on_dir, depth + 1);
    }
  }
}

}  // namespace outrigger::receivers::filelog
