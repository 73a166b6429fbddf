#include "exporters/file/config.h"

namespace outrigger::exporters::file {

Config::Config() { helper.sending_queue.enabled = false; }

void Config::Decode(config::Node& node) {
  node.Read("path", &path);
  node.ReadEnum("format", &format, {"json", "proto"});
  node.ReadEnum("compression", &compression, {"", "zstd"});
  node.Read("flush_interval", &flush_interval);
  node.Read("append", &append);
  if (node.Has("rotation")) {
    rotation.enabled = true;
    config::Node& r = node.Child("rotation");
    r.Read("max_megabytes", &rotation.max_megabytes);
    r.Read("max_days", &rotation.max_days);
    r.Read("max_backups", &rotation.max_backups);
    r.Read("localtime", &rotation.localtime);
  }
  // group_by (one file per value of a resource attribute): refused only when enabled, so
  // upstream's documented `group_by: {enabled: false, ...}` still validates.
  if (node.Has("group_by")) {
    config::Node& g = node.Child("group_by");
    bool enabled = false;
    g.Read("enabled", &enabled);
    g.Accept("resource_attribute");
    g.Accept("max_open_files");
    if (enabled) {
      node.ErrorAt("group_by",
                   "group_by is not supported: use one file exporter per destination, each in a pipeline with a "
                   "filter processor keeping its resources");
    }
  }
  node.Read("create_directory", &create_directory);
  node.Read("directory_permissions", &directory_permissions);
  node.Unsupported("encoding",
                   "Outrigger has no encoding extensions; use format: json (OTLP/JSON lines) or format: proto");
  node.ReadBytes("max_line_size", &max_line_size);
  helper.Decode(node);
}

unsigned Config::DirectoryMode() const {
  unsigned mode = 0;
  for (char ch : directory_permissions.empty() ? std::string("0755") : directory_permissions) {
    mode = mode * 8 + static_cast<unsigned>(ch - '0');
  }
  return mode;
}

absl::Status Config::Validate() const {
  if (path.empty()) return absl::InvalidArgumentError("path is required");
  if (!directory_permissions.empty()) {
    if (!create_directory) {
      return absl::InvalidArgumentError("directory_permissions requires create_directory to be true");
    }
    if (directory_permissions.size() > 4 || directory_permissions.find_first_not_of("01234567") != std::string::npos) {
      return absl::InvalidArgumentError("directory_permissions value must be a valid octal representation");
    }
    if (DirectoryMode() > 0777) {
      return absl::InvalidArgumentError("directory_permissions contain invalid bits for file access");
    }
  }
  if (flush_interval < absl::ZeroDuration()) return absl::InvalidArgumentError("flush_interval must not be negative");
  if (rotation.enabled) {
    if (rotation.max_megabytes <= 0 || rotation.max_megabytes > (int64_t{1} << 20)) {
      return absl::InvalidArgumentError("rotation.max_megabytes must be between 1 and 1048576");
    }
    if (rotation.max_days < 0) return absl::InvalidArgumentError("rotation.max_days must not be negative");
    if (rotation.max_backups < 0) return absl::InvalidArgumentError("rotation.max_backups must not be negative");
  }
  // The length prefix of format: proto and of compressed records is 4 bytes.
  if ((format == "proto" || !compression.empty()) && (max_line_size == 0 || max_line_size > 0xffffffffull)) {
    return absl::InvalidArgumentError(
        "max_line_size must be between 1 and 4294967295 with format: proto or compression (a 4-byte length "
        "precedes each request)");
  }
  return helper.Validate();
}

}  // namespace outrigger::exporters::file
