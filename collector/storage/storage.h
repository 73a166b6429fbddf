#pragma once
// Storage between components: an extension (file_storage) implements StorageExtension; an
// exporter's `sending_queue.storage: <id>` or the filelog receiver's `storage: <id>` finds
// it with Host::GetExtension(id) and a dynamic_cast, as authenticators are found
// (component/auth.h).

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "collector/storage/segment_log.h"

namespace outrigger::storage {

class StorageExtension {
 public:
  virtual ~StorageExtension() = default;
  // The persistent queue of one component (`kind`: "exporter", `id`: "otlp/backend"),
  // recovered from what a previous run left (`visit` sees each record; SegmentLog::Open).
  // One open log per component at a time.
  virtual absl::StatusOr<std::unique_ptr<SegmentLog>> OpenLog(std::string_view kind, std::string_view id,
                                                              const std::function<void(std::string_view)>& visit) = 0;
  // A directory of the component's own, created if missing, for files it manages itself
  // (the filelog receiver's checkpoints).
  virtual absl::StatusOr<std::string> Directory(std::string_view kind, std::string_view id) = 0;
};

// "exporter", "otlp/backend" -> "exporter_otlp_backend": the name of a component's
// place in a storage directory.
std::string StoreName(std::string_view kind, std::string_view id);

}  // namespace outrigger::storage
