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
// The mutants run `validate` in a forked child (the same code as the binary's command
// line), one after another, so a crash is seen as the child's signal, with the mutant
// that caused it; the next child goes on from there.
//
// Usage: config_mutation_test [--embedded-default] FILE...   (exit 0: all passed)

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "collector/app.h"
#include "spdlog/spdlog.h"
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
  // A clone of `value`: assigning a node merges yaml-cpp's memory of the two trees, and
  // every mutant merged with the long-lived shapes would live as long as they do (200+
  // MiB for a large config, which each fork below then copied the page tables of).
  if (const auto* k = std::get_if<std::string>(&p.back())) {
    parent[*k] = YAML::Clone(value);
  } else {
    parent[std::get<size_t>(p.back())] = YAML::Clone(value);
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

bool WriteAll(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool ReadAll(int fd, void* data, size_t n) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    const ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// In a forked child: `validate` on each of `mutants` from `from` on, in order, in this
// process (the same code as the binary's command line), each one's exit code and output
// written to `out`. One child runs them all unless one kills it: a fork per mutant cost
// more than the validation itself.
[[noreturn]] void ValidateInChild(const std::vector<Mutant>& mutants, size_t from, const std::string& dir, int out) {
  const std::string file = dir + "/mutant.yaml", log = dir + "/mutant.out";
  for (size_t i = from; i < mutants.size(); ++i) {
    std::ofstream(file, std::ios::trunc) << mutants[i].yaml;
    std::cout.flush();
    std::fflush(nullptr);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    spdlog::drop_all();  // RunMain registers its logger by name
    const int32_t rc = outrigger::RunMain({"validate", "--config", file});
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string output = ss.str();
    const uint64_t size = output.size();
    if (!WriteAll(out, &rc, sizeof rc) || !WriteAll(out, &size, sizeof size) ||
        !WriteAll(out, output.data(), output.size())) {
      _exit(3);
    }
  }
  _exit(0);
}

// Validates every mutant in forked children: one runs them in order; when one dies (by
// a signal, say) the mutant it was on gets that as its result and a new child goes on
// from the next one.
std::vector<Result> ValidateAll(const std::vector<Mutant>& mutants, const std::string& dir) {
  std::vector<Result> results;
  while (results.size() < mutants.size()) {
    int fds[2];
    if (pipe(fds) != 0) {
      std::perror("pipe");
      std::exit(2);
    }
    std::cout.flush();
    std::cerr.flush();
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      ValidateInChild(mutants, results.size(), dir, fds[1]);
    }
    close(fds[1]);
    while (true) {
      Result r;
      int32_t code = 0;
      uint64_t size = 0;
      if (!ReadAll(fds[0], &code, sizeof code) || !ReadAll(fds[0], &size, sizeof size)) break;
      r.output.resize(size);
      if (!ReadAll(fds[0], r.output.data(), size)) break;
      r.code = code;
      results.push_back(std::move(r));
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (results.size() < mutants.size()) {  // the child died on this mutant
      Result r;
      r.signaled = WIFSIGNALED(status);
      r.code = r.signaled ? WTERMSIG(status) : WEXITSTATUS(status);
      if (!r.signaled && r.code == 0) r.code = 3;  // it stopped early without a signal
      results.push_back(std::move(r));
    }
  }
  return results;
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
    const std::vector<Result> results = ValidateAll(mutants, dir);
    for (size_t i = 0; i < mutants.size(); ++i) {
      const Mutant& m = mutants[i];
      const Result& r = results[i];
      ++total;
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
