#include "receivers/filelog/config.h"

#include <unistd.h>

#include "re2/re2.h"
#include "receivers/filelog/glob.h"

namespace outrigger::receivers::filelog {

void Config::Decode(config::Node& node) {
  node.Read("include", &include);
  node.Read("exclude", &exclude);
  node.ReadEnum("start_at", &start_at, {"beginning", "end"});
  node.Read("poll_interval", &poll_interval);
  node.ReadBytes("fingerprint_size", &fingerprint_size);
  node.ReadBytes("max_log_size", &max_log_size);
  node.Read("max_concurrent_files", &max_concurrent_files);
  node.Read("max_batch_size", &max_batch_size);
  node.ReadBytes("max_batch_size_bytes", &max_batch_size_bytes);
  node.Read("encoding", &encoding);
  node.Read("include_file_name", &include_file_name);
  node.Read("include_file_path", &include_file_path);
  node.Read("include_file_name_resolved", &include_file_name_resolved);
  node.Read("include_file_path_resolved", &include_file_path_resolved);
  node.Read("preserve_leading_whitespaces", &preserve_leading_whitespaces);
  node.Read("preserve_trailing_whitespaces", &preserve_trailing_whitespaces);
  config::Node& ml = node.Child("multiline");
  ml.Read("line_start_pattern", &multiline.line_start_pattern);
  ml.Read("line_end_pattern", &multiline.line_end_pattern);
  ml.Read("omit_pattern", &multiline.omit_pattern);
  node.Read("force_flush_period", &force_flush_period);
  node.Read("delete_after_read", &delete_after_read);
  node.Read("attributes", &attributes);
  node.Read("resource", &resource);
  node.Read("storage", &storage);
  node.Read("checkpoint_interval", &checkpoint_interval);
  config::Node& retry = node.Child("retry_on_failure");
  bool retry_enabled = true;
  retry.Read("enabled", &retry_enabled);
  if (!retry_enabled) {
    retry.ErrorAt("enabled", "refused data is always retried by this receiver (it never drops); remove the key");
  }
  retry.Read("initial_interval", &retry_initial_interval);
  retry.Read("max_interval", &retry_max_interval);
  retry.Unsupported("max_elapsed_time",
                    "this receiver retries a refused batch until it is accepted (it never drops one); remove it");
  uint64_t initial_buffer_size = 0;  // accepted: the read buffer sizes itself (256 KiB, grows to max_log_size)
  node.ReadBytes("initial_buffer_size", &initial_buffer_size);
  operators.Decode(node);
  node.Accept("operators");
  node.Unsupported("exclude_older_than", "exclude old files by name with exclude globs, or move them away");
  node.Unsupported("ordering_criteria", "name the files to read with include/exclude globs");
  node.Unsupported("compression", "decompress rotated files before they are matched, or exclude them (*.gz)");
  node.Unsupported("acquire_fs_lock", "remove it: files are read without locks (writers must not rely on them)");
  node.Unsupported("include_file_owner_name", "add the owner with a resource or attributes entry; remove it");
  node.Unsupported("include_file_owner_group_name", "add the group with a resource or attributes entry; remove it");
  node.Unsupported("include_file_record_number", "remove it: records carry no per-file number");
  node.Unsupported("include_file_record_offset", "remove it: records carry no per-file offset");
  node.Unsupported("header", "parse header lines with operators (regex_parser) instead");
  node.Unsupported("max_batches", "remove it: max_concurrent_files bounds the files open at once");
  node.Unsupported("polls_to_archive", "remove it: rotated files are recognised by fingerprint without an archive");
  // Relative globs: against the working directory, as upstream reads them.
  char cwd_buf[4096];
  const char* cwd = getcwd(cwd_buf, sizeof(cwd_buf));
  for (auto* globs : {&include, &exclude}) {
    for (auto& g : *globs) {
      if (!g.empty() && g[0] != '/' && cwd != nullptr) g = Glob::Absolute(g, cwd);
    }
  }
  for (const char* key : {"include", "exclude"}) {
    for (const auto& g : key[0] == 'i' ? include : exclude) {
      if (std::string err = Glob::Check(g); !err.empty()) node.ErrorAt(key, StrCat("\"", g, "\": ", err));
    }
  }
  for (const std::string* p : {&multiline.line_start_pattern, &multiline.line_end_pattern}) {
    if (p->empty()) continue;
    RE2 re(*p, RE2::Quiet);
    if (!re.ok()) ml.Error(StrCat("pattern \"", *p, "\" does not compile: ", re.error()));
  }
}

absl::Status Config::Validate() const {
  if (include.empty()) return absl::InvalidArgumentError("include: at least one glob is required");
  if (poll_interval <= absl::ZeroDuration()) return absl::InvalidArgumentError("poll_interval must be positive");
  if (fingerprint_size < kMinFingerprintSize) {
    return absl::InvalidArgumentError(StrCat("fingerprint_size must be at least ", kMinFingerprintSize, " bytes"));
  }
  if (max_log_size < 1) return absl::InvalidArgumentError("max_log_size must be positive");
  if (max_concurrent_files < 1) return absl::InvalidArgumentError("max_concurrent_files must be at least 1");
  if (max_batch_size < 1) return absl::InvalidArgumentError("max_batch_size must be at least 1");
  if (max_batch_size_bytes < 1) return absl::InvalidArgumentError("max_batch_size_bytes must be at least 1");
  static const char* kEncodings[] = {"utf-8",  "utf8",       "utf-16le", "utf-16be", "latin-1",
                                     "latin1", "iso-8859-1", "ascii",    "us-ascii", "nop"};
  bool known = false;
  for (const char* e : kEncodings) known |= encoding == e;
  if (!known) {
    return absl::InvalidArgumentError(StrCat("encoding \"", encoding,
                                             "\" is not one of: utf-8, utf-16le, utf-16be, latin-1 (iso-8859-1), "
                                             "ascii, nop"));
  }
  if (!multiline.line_start_pattern.empty() && !multiline.line_end_pattern.empty()) {
    return absl::InvalidArgumentError("multiline: set line_start_pattern or line_end_pattern, not both");
  }
  if (multiline.omit_pattern && multiline.empty()) {
    return absl::InvalidArgumentError("multiline.omit_pattern needs line_start_pattern or line_end_pattern");
  }
  if (force_flush_period < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("force_flush_period must not be negative (0 turns it off)");
  }
  if (delete_after_read && start_at != "beginning") {
    return absl::InvalidArgumentError("delete_after_read needs start_at: beginning");
  }
  if (checkpoint_interval < kMinCheckpointInterval) {
    return absl::InvalidArgumentError(StrCat("checkpoint_interval must be at least ",
                                             absl::FormatDuration(kMinCheckpointInterval), " (got ",
                                             absl::FormatDuration(checkpoint_interval), ")"));
  }
  if (retry_initial_interval <= absl::ZeroDuration() || retry_max_interval < retry_initial_interval) {
    return absl::InvalidArgumentError(
        "retry_on_failure: initial_interval must be positive and max_interval at least initial_interval");
  }
  return absl::OkStatus();
}

}  // namespace outrigger::receivers::filelog
