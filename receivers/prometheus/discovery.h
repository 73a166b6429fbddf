#pragma once
// Target discovery: from a target group's labels (a static_config's, or the Pod's
// annotations) to the targets to scrape, through the job's relabel_configs, as
// Prometheus's PopulateLabels does; and pod_annotations_sd_configs, which reads the Pod's
// annotations from a Downward API file and notices when the kubelet rewrites it.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "receivers/prometheus/config.h"
#include "receivers/prometheus/relabel.h"

namespace outrigger::receivers::prometheus {

// Prometheus's durations: "0", or units in this order: y w d h m s ms ("1m30s").
std::optional<absl::Duration> ParsePromDuration(std::string_view s);
std::string FormatPromDuration(absl::Duration d);

// One target, after relabeling.
struct ScrapeTarget {
  std::string address;               // __address__
  std::string scheme;                // __scheme__
  std::string url;                   // scheme://address/metrics_path?params
  absl::Duration interval, timeout;  // __scrape_interval__, __scrape_timeout__
  LabelSet labels;                   // the target labels: job, instance and the others; no "__" ones
};

// `group` is a target group's labels (__address__ and the static labels, or what a
// discovery found). Adds the job's defaults (job, __scheme__, __metrics_path__,
// __scrape_interval__, __scrape_timeout__, __param_<name>) where they are not set,
// applies relabel_configs, then builds the target: nullopt if relabeling dropped it, an
// error if what is left is not a target (no __address__, a bad interval...).
absl::StatusOr<std::optional<ScrapeTarget>> PopulateTarget(const ScrapeConfig& sc, absl::Duration interval,
                                                           absl::Duration timeout, const LabelSet& group);

// The Downward API's annotations file: one `key="value"` per line, the value quoted as
// Go's strconv.Quote does. Errors name the line.
absl::StatusOr<LabelSet> ParseAnnotationsFile(std::string_view text);

// The target group that the annotations describe: none unless prometheus.io/scrape is
// "true"; then __address__ = 127.0.0.1:<prometheus.io/port>, __metrics_path__ from
// prometheus.io/path, __scheme__ from prometheus.io/scheme, and every annotation as
// __meta_kubernetes_pod_annotation_<name> (and ..._annotationpresent_<name> = "true"),
// named as Prometheus's kubernetes_sd names them, for relabel_configs. An error if an
// annotation that is used has an invalid value (or the port is missing).
absl::StatusOr<std::vector<LabelSet>> GroupsFromAnnotations(const LabelSet& annotations);

// A source of target groups that the receiver's worker polls (no thread of its own).
class TargetDiscovery {
 public:
  virtual ~TargetDiscovery() = default;
  struct Result {
    bool changed = false;  // groups() differ from the last call's
    absl::Status error;    // a new problem (reported once until it changes)
  };
  // On an error, groups() keep the last good value.
  virtual Result Poll() = 0;
  virtual const std::vector<LabelSet>& groups() const = 0;
  virtual std::string_view kind() const = 0;  // for the log: "pod annotations", "file_sd"
  // A discovery that is told of changes (a watch) has its own threads, started here; it
  // calls `changed` (from those threads, holding none of its locks) when Poll() would
  // find something new, so that the worker polls at once instead of at its interval.
  virtual void Start(std::function<void()> changed) { (void)changed; }
  // Stops those threads; `changed` is not called after it returns. Idempotent.
  virtual void Stop() {}
  // The worker has made the targets of groups(): a discovery that tells its changes
  // otherwise (a version) may free them until the next Poll() (which then reports a
  // change whenever it has one).
  virtual void Release() {}
};

// Prometheus's strutil.SanitizeLabelName: every character but [a-zA-Z0-9_] becomes '_'.
std::string SanitizeLabelName(std::string_view s);

// Watches one annotations file by polling: each Poll() stat()s the path (following the
// kubelet's `..data` symlink swap, which gives a new inode) and re-reads the file only if
// its identity, size or mtime changed. No thread of its own.
class PodAnnotationsDiscovery : public TargetDiscovery {
 public:
  explicit PodAnnotationsDiscovery(std::string file) : file_(std::move(file)) {}

  // On an error (a file that cannot be read, a malformed line, an invalid annotation),
  // groups() keep the last good value.
  Result Poll() override;
  const std::vector<LabelSet>& groups() const override { return groups_; }
  std::string_view kind() const override { return "pod annotations discovery"; }
  const std::string& file() const { return file_; }

 private:
  struct Stamp {
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
  };
  std::string file_;
  std::optional<Stamp> stamp_;
  std::string last_error_;
  std::vector<LabelSet> groups_;
};

// Prometheus's file_sd_configs: the files matching `patterns` (a `*` in the last path
// element, as Prometheus allows; relative paths from the working directory, as the
// OpenTelemetry Collector has them), each a JSON or YAML list of `{targets: [host:port,
// ...], labels: {name: value}}`. Every target is a group with its labels, `__address__`
// and `__meta_filepath`. A file that cannot be read or parsed is an error: the last
// good groups are kept (as Prometheus does).
class FileSdDiscovery : public TargetDiscovery {
 public:
  explicit FileSdDiscovery(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {}
  Result Poll() override;
  const std::vector<LabelSet>& groups() const override { return groups_; }
  std::string_view kind() const override { return "file_sd"; }

 private:
  std::vector<std::string> patterns_;
  std::string last_error_;
  std::vector<LabelSet> groups_;
};

// The target groups of one file_sd file's text (JSON or YAML); `path` is its
// __meta_filepath. Errors say what is wrong.
absl::StatusOr<std::vector<LabelSet>> ParseFileSd(std::string_view text, const std::string& path);

}  // namespace outrigger::receivers::prometheus
