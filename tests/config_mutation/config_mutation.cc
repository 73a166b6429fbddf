// Mutates every configuration the repository ships and runs `outrigger validate` on each
// mutant: it must exit 0, or 1 with a message that names where the problem is, and never
// die by a signal (an abort or a segfault here is a config that kills a running collector
// on SIGHUP).
//
// Mutations: every node replaced by values of the wrong shape (lists, mappings, lists of
// mappings, empty strings, huge numbers, invalid UTF-8, null); every component renamed to
// an unknown type, removed, or renamed together with its references; unknown component
// types of every kind used in every pipeline, with and without a definition (a connector
// type we do not have used as the exporter of one pipeline and the receiver of another).
//
// Each mutant runs `validate` in a forked child (the same code as the binary's command
// line), so a crash is seen as the child's signal, with the mutant that caused it.
//
// Usage: config_mutation_test [--embedded-default] FILE...   (exit 0: all passed)

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "collector/app.h"
#include "yaml-cpp/yaml.h"

namespace {

using Step = std::variant<std::string, size_t>;  // a mapping key or a list index
using Path = std::vector<Step>;

std::string PathString(const Path& p) {
  std::string s;
  for (const Step& st : p) {
    if (const auto* k = std::get_if<std::string>(&st)) {
      if (!s.empty()) s += ".";
      s += *k;
    } else {
      s += "[" + std::to_string(std::get<size_t>(st)) + "]";
    }
  }
  return s;
}

// Where an error about `p` must point: its first two levels (e.g. "receivers.otlp").
std::string ErrorPrefix(const Path& p) {
  Path head;
  for (const Step& st : p) {
    if (head.size() == 2) break;
    if (!std::holds_alternative<std::string>(st)) break;
    head.push_back(st);
  }
  return PathString(head);
}

void Walk(const YAML::Node& n, Path& path, std::vector<Path>* out) {
  if (!path.empty()) out->push_back(path);
  if (n.IsMap()) {
    for (const auto& kv : n) {
      path.emplace_back(kv.first.Scalar());
      Walk(kv.second, path, out);
      path.pop_back();
    }
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) {
      path.emplace_back(i);
      Walk(n[i], path, out);
      path.pop_back();
    }
  }
}

// Replaces the node at `p` (not the root) in a clone of `root`.
YAML::Node Replace(const YAML::Node& root, const Path& p, const YAML::Node& value) {
  YAML::Node copy = YAML::Clone(root);
  YAML::Node parent = copy;
  for (size_t i = 0; i + 1 < p.size(); ++i) {
    if (const auto* k = std::get_if<std::string>(&p[i])) {
      parent.reset(parent[*k]);
    } else {
      parent.reset(parent[std::get<size_t>(p[i])]);
    }
  }
  if (const auto* k = std::get_if<std::string>(&p.back())) {
    parent[*k] = value;
  } else {
    parent[std::get<size_t>(p.back())] = value;
  }
  return copy;
}

std::string Emit(const YAML::Node& n) {
  YAML::Emitter e;
  e << n;
  return e.c_str();
}

struct Mutant {
  std::string what;
  std::string yaml;
  std::string must_mention;  // in the error output when validate refuses it
};

std::vector<YAML::Node> WrongShapes() {
  std::vector<YAML::Node> v;
  for (const char* s : {"[a, b]", "[{a: 1}, {b: [2]}]", "{k: v, n: {m: 1}}", "''", "99999999999999999999999999", "-1",
                        "1e999", "~", "[[[[]]]]", "0"}) {
    v.push_back(YAML::Load(s));
  }
  v.push_back(YAML::Node(std::string("\xff\xfe\xc3(invalid utf-8")));
  return v;
}

constexpr const char* kSections[] = {"receivers", "processors", "exporters", "connectors", "extensions"};
constexpr const char* kPipelineFields[] = {"receivers", "processors", "exporters"};

// Renames `from` to `to` in every pipeline list and in service.extensions.
void RenameReferences(YAML::Node root, const std::string& from, const std::string& to) {
  YAML::Node service = root["service"];
  if (!service.IsMap()) return;
  auto rename_in = [&](YAML::Node list) {
    if (!list.IsSequence()) return;
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].IsScalar() && list[i].Scalar() == from) list[i] = to;
    }
  };
  rename_in(service["extensions"]);
  if (service["pipelines"].IsMap()) {
    for (auto p : service["pipelines"]) {
      for (const char* f : kPipelineFields) {
        if (p.second.IsMap()) rename_in(p.second[f]);
      }
    }
  }
}

std::vector<Mutant> Mutants(YAML::Node root) {  // not const: a const operator[] throws on a missing key
  std::vector<Mutant> out;
  std::vector<Path> paths;
  Path p;
  Walk(root, p, &paths);
  const std::vector<YAML::Node> shapes = WrongShapes();
  for (const Path& path : paths) {
    for (const YAML::Node& v : shapes) {
      out.push_back({PathString(path) + " := " + Emit(v), Emit(Replace(root, path, v)), ErrorPrefix(path)});
    }
  }
  for (const char* section : kSections) {
    if (!root[section].IsMap()) continue;
    std::vector<std::string> ids;
    for (const auto& kv : root[section]) ids.push_back(kv.first.Scalar());
    for (const std::string& id : ids) {
      const std::string unknown =
          "nosuchtype" + id.substr(id.find('/') == std::string::npos ? id.size() : id.find('/'));
      {  // renamed to an unknown type; the pipelines still name the old id
        YAML::Node m = YAML::Clone(root);
        m[section][unknown] = m[section][id];
        m[section].remove(id);
        out.push_back({std::string(section) + "." + id + " renamed to " + unknown, Emit(m), unknown});
      }
      {  // renamed with its references
        YAML::Node m = YAML::Clone(root);
        m[section][unknown] = m[section][id];
        m[section].remove(id);
        RenameReferences(m, id, unknown);
        out.push_back(
            {std::string(section) + "." + id + " and its references renamed to " + unknown, Emit(m), unknown});
      }
      {  // removed
        YAML::Node m = YAML::Clone(root);
        m[section].remove(id);
        out.push_back({std::string(section) + "." + id + " removed", Emit(m), ""});
      }
    }
  }
  // Unknown types of every kind in every pipeline, undefined or defined in each section.
  YAML::Node pipelines = root["service"]["pipelines"];
  if (pipelines.IsMap()) {
    std::vector<std::string> names;
    for (const auto& kv : pipelines) names.push_back(kv.first.Scalar());
    for (const std::string& name : names) {
      for (const char* field : kPipelineFields) {
        for (const char* section : {"", "receivers", "processors", "exporters", "connectors", "extensions"}) {
          YAML::Node m = YAML::Clone(root);
          if (*section != 0) m[section]["nosuchtype"] = YAML::Load("{}");
          m["service"]["pipelines"][name][field].push_back("nosuchtype");
          out.push_back({"nosuchtype in service.pipelines." + name + "." + field + " (defined in " +
                             (*section != 0 ? section : "nothing") + ")",
                         Emit(m), "nosuchtype"});
        }
      }
      // A connector type we do not have, between this pipeline and a new one.
      YAML::Node m = YAML::Clone(root);
      m["connectors"]["nosuchtype"] = YAML::Load("{}");
      m["service"]["pipelines"][name]["exporters"].push_back("nosuchtype");
      m["service"]["pipelines"]["metrics/nosuchtype"] = YAML::Load("{receivers: [nosuchtype], exporters: [nop]}");
      out.push_back({"nosuchtype connector from service.pipelines." + name, Emit(m), "nosuchtype"});
    }
    YAML::Node m = YAML::Clone(root);
    m["service"]["pipelines"]["profiles"] = pipelines[names.empty() ? std::string() : names[0]];
    out.push_back({"a pipeline of an unknown signal", Emit(m), "profiles"});
  }
  return out;
}

struct Result {
  bool signaled = false;
  int code = 0;  // exit code, or the signal
  std::string output;
};

Result RunValidate(const std::string& yaml, const std::string& dir) {
  const std::string file = dir + "/mutant.yaml", log = dir + "/mutant.out";
  std::ofstream(file, std::ios::trunc) << yaml;
  std::cout.flush();
  std::cerr.flush();
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    int rc = outrigger::RunMain({"validate", "--config", file});
    std::cout.flush();
    std::cerr.flush();
    _exit(rc);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  Result r;
  r.signaled = WIFSIGNALED(status);
  r.code = r.signaled ? WTERMSIG(status) : WEXITSTATUS(status);
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  r.output = ss.str();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::pair<std::string, std::string>> configs;  // name, text
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--embedded-default") {
      configs.emplace_back("<embedded default>", outrigger::kDefaultConfigYaml);
      continue;
    }
    std::ifstream in(a);
    if (!in) {
      std::cerr << "cannot read " << a << "\n";
      return 2;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    configs.emplace_back(a, ss.str());
  }
  char tmpl[] = "/tmp/outrigger-mutation-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 2;
  const std::string dir = tmpl;
  size_t total = 0, failed = 0, refused = 0;
  for (const auto& [name, text] : configs) {
    YAML::Node root = YAML::Load(text);
    std::vector<Mutant> mutants = Mutants(root);
    size_t config_refused = 0;
    for (const Mutant& m : mutants) {
      ++total;
      Result r = RunValidate(m.yaml, dir);
      std::string problem;
      if (r.signaled) {
        problem = "validate died by signal " + std::to_string(r.code);
      } else if (r.code != 0 && r.code != 1) {
        problem = "validate exited " + std::to_string(r.code);
      } else if (r.code == 1) {
        ++config_refused;
        if (r.output.find("invalid configuration") == std::string::npos) {
          problem = "refused without listing errors";
        } else if (!m.must_mention.empty() && r.output.find(m.must_mention) == std::string::npos) {
          problem = "the errors do not name \"" + m.must_mention + "\"";
        }
      }
      if (!problem.empty()) {
        ++failed;
        std::cout << "FAIL " << name << ": " << m.what << ": " << problem << "\n--- mutant:\n"
                  << m.yaml << "\n--- output:\n"
                  << r.output << "\n";
      }
    }
    refused += config_refused;
    std::cout << name << ": " << mutants.size() << " mutants, " << config_refused << " refused\n";
  }
  std::remove((dir + "/mutant.yaml").c_str());
  std::remove((dir + "/mutant.out").c_str());
  rmdir(dir.c_str());
  std::cout << total << " mutants, " << refused << " refused with errors, " << failed << " failed\n";
  std::cout << (total - failed) << " passed, " << failed << " failed\n";
  return failed == 0 && total > 0 ? 0 : 1;
}
