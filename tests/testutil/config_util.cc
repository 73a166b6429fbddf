#include "tests/testutil/config_util.h"

#include <fstream>
#include <sstream>

#include "collector/common/strings.h"

namespace outrigger::testutil {

std::string SourcePath(std::string_view relative) {
  if (!relative.empty() && relative[0] == '/') return std::string(relative);
  return StrCat(OUTRIGGER_SOURCE_DIR, "/", relative);
}

absl::Status DecodeComponentConfig(const std::string& path, std::string_view kind, std::string_view id,
                                   ComponentConfig* cfg, config::Errors* errors) {
  const std::string file = SourcePath(path);
  std::ifstream in(file);
  if (!in) {
    errors->Add("", 0, StrCat("cannot read ", file));
    return absl::NotFoundError(errors->Joined());
  }
  std::stringstream text;
  text << in.rdbuf();
  YAML::Node root_yaml = config::LoadAndMerge({{file, text.str()}}, errors);
  if (!errors->empty()) return absl::InvalidArgumentError(errors->Joined());

  config::Node root(root_yaml, "", errors);
  config::Node& section = root.Child(kind);
  if (!section.Has(id)) {
    errors->Add(std::string(kind), section.line(), StrCat("no component \"", id, "\" in ", file));
    return absl::NotFoundError(errors->Joined());
  }
  config::Node& node = section.Child(id);
  cfg->Decode(node);
  node.Finish();  // unknown keys of this component only, not of the rest of the file
  if (!errors->empty()) return absl::InvalidArgumentError(errors->Joined());
  return absl::OkStatus();
}

absl::Status DecodeYaml(std::string_view yaml, ComponentConfig* cfg, config::Errors* errors) {
  config::Node node(config::LoadAndMerge({{"<yaml>", std::string(yaml)}}, errors), "", errors);
  if (!errors->empty()) return absl::InvalidArgumentError(errors->Joined());
  cfg->Decode(node);
  node.Finish();
  if (!errors->empty()) return absl::InvalidArgumentError(errors->Joined());
  return absl::OkStatus();
}

}  // namespace outrigger::testutil
