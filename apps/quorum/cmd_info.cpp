// `quorum info MODEL [--json]`: what a model file holds, without loading weights into memory.
#include <fmt/format.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "io/gguf.h"

namespace quorum::cli {

RunFn setup_info(CLI::App& sub) {
  struct Opts {
    std::string path;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("model", o->path, "GGUF model file")->required();
  sub.add_flag("--json", o->json, "Print machine-readable JSON");
  return [o]() -> int {
    auto f = gguf::File::open(o->path);
    if (!f) return report_error(f.status());
    std::map<std::string, int64_t> hist;
    int64_t n_params = 0;
    for (const auto& t : f->tensors()) {
      hist[dtype_name(t.type)] += 1;
      n_params += t.n_elements();
    }
    const std::string arch = f->get_string_or("general.architecture", "?").value_or("?");
    if (o->json) {
      nlohmann::json j;
      j["path"] = o->path;
      j["gguf_version"] = f->version();
      j["architecture"] = arch;
      j["n_params"] = n_params;
      j["n_tensors"] = f->tensors().size();
      j["tensor_types"] = hist;
      fmt::print("{}\n", j.dump(2));
    } else {
      fmt::print("file:          {}\nformat:        GGUF v{}\narchitecture:  {}\nparameters:    {}\n",
                 o->path, f->version(), arch, n_params);
      for (const auto& [k, v] : hist) fmt::print("  {:8} {} tensors\n", k, v);
    }
    return 0;
  };
}

}  // namespace quorum::cli
