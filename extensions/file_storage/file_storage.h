#pragma once
// file_storage: a directory of persistent stores. Each component that names it gets its
// own subdirectory: an exporter's `sending_queue.storage` a SegmentLog (the persistent
// queue), the filelog receiver's `storage` a directory for its checkpoints. The directory
// is locked (flock) while the extension runs, so two processes never share it; every
// store of the extension counts against one `max_size`.

#include <memory>
#include <mutex>
#include <string>

#include "collector/component/factory.h"
#include "collector/storage/storage.h"
#include "extensions/file_storage/config.h"

namespace outrigger::extensions::file_storage {

class FileStorage : public Extension, public storage::StorageExtension {
 public:
  FileStorage(const CreateSettings& settings, const Config& cfg);
  ~FileStorage() override;

  // Creates the directory (create_directory), checks it is writable, takes its lock
  // (waiting up to `timeout`).
  absl::Status Start(Host& host) override;
  absl::Status Shutdown(absl::Time deadline) override;

  absl::StatusOr<std::unique_ptr<storage::SegmentLog>> OpenLog(
      std::string_view kind, std::string_view id, const std::function<void(std::string_view)>& visit) override;
  absl::StatusOr<std::string> Directory(std::string_view kind, std::string_view id) override;

  const std::shared_ptr<storage::ByteBudget>& budget() const { return budget_; }

 private:
  absl::Status Ready() const;

  CreateSettings settings_;
  Config cfg_;
  std::shared_ptr<storage::ByteBudget> budget_;
  mutable std::mutex mu_;
  int lock_fd_ = -1;  // guarded by mu_
};

}  // namespace outrigger::extensions::file_storage
