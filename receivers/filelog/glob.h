#pragma once
// Path globs as the OpenTelemetry filelog receiver takes them (doublestar syntax):
// `*`, `?` and `[...]` within one path component (they match dot files too), and `**` as a
// whole component for zero or more directories. Patterns are absolute paths (a relative
// one is made absolute against the working directory by Absolute, at config time).

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace outrigger::receivers::filelog {

class Glob {
 public:
  explicit Glob(std::string_view pattern);

  // "" if `pattern` is usable, else why not.
  static std::string Check(std::string_view pattern);
  // A relative pattern made absolute against the working directory `cwd` (as upstream's
  // doublestar globs read one), with its `.` and `..` components resolved lexically
  // (Go's filepath.Clean). Absolute patterns are returned as they are.
  static std::string Absolute(std::string_view pattern, std::string_view cwd);

  // Whether an absolute, normalised path matches.
  bool Match(std::string_view path) const;

  // Every existing non-directory path (symbolic links to files included) that matches.
  // `on_dir` is called with each directory where a new match could appear (for inotify):
  // each directory that was listed or entered (or that could not be listed), and the
  // deepest existing one on the way to a missing directory or file of the pattern.
  // Directories reached through `**` are not followed when they are symbolic links.
  void Expand(std::vector<std::string>* out, const std::function<void(const std::string&)>& on_dir) const;

  const std::string& pattern() const { return pattern_; }

 private:
  bool MatchFrom(size_t pi, const std::vector<std::string_view>& parts, size_t si) const;
  void ExpandFrom(const std::string& dir, size_t pi, std::vector<std::string>* out,
                  const std::function<void(const std::string&)>& on_dir, int depth) const;

  std::string pattern_;
  std::vector<std::string> parts_;  // components; "**" for the double star
};

}  // namespace outrigger::receivers::filelog
