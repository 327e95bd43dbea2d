// quorum pull's client against a real HTTP server on 127.0.0.1 that serves the hub's URL layout
// (repository listing, /resolve/ with a redirect to a "CDN" path, Range requests), plus failure
// modes: a connection cut mid-file, a wrong published checksum, missing repositories.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "core/sha256.h"
#include "hub/hub.h"
#include "testing/shared_data.h"

namespace quorum::hub {
namespace {

namespace fs = std::filesystem;

struct FakeFile {
  std::string content;
  std::string published_sha;  // what the listing claims
  bool lfs = true;
};

class FakeHub {
 public:
  FakeHub() {
    server_.Get(R"(/api/models/([^/]+)/([^/]+)/revision/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string repo = req.matches[1].str() + "/" + req.matches[2].str();
      std::lock_guard<std::mutex> lock(mu_);
      auto it = repos_.find(repo);
      if (it == repos_.end()) {
        res.status = 404;
        res.set_content(R"({"error":"Repository not found"})", "application/json");
        return;
      }
      nlohmann::json j;
      j["sha"] = "0123456789abcdef0123456789abcdef01234567";
      j["siblings"] = nlohmann::json::array();
      for (const auto& [name, f] : it->second) {
        nlohmann::json s{{"rfilename", name}, {"size", f.content.size()}};
        if (f.lfs) s["lfs"] = {{"sha256", f.published_sha}, {"size", f.content.size()}};
        j["siblings"].push_back(s);
      }
      res.set_content(j.dump(), "application/json");
    });
    // /{org}/{repo}/resolve/{rev}/{file} redirects to a CDN-like path, as the real hub does.
    server_.Get(R"(/([^/]+)/([^/]+)/resolve/([^/]+)/(.+))", [](const httplib::Request& req, httplib::Response& res) {
      res.set_redirect("/cdn/" + req.matches[1].str() + "/" + req.matches[2].str() + "/" + req.matches[4].str());
    });
    server_.Get(R"(/cdn/([^/]+)/([^/]+)/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string repo = req.matches[1].str() + "/" + req.matches[2].str();
      const std::string name = req.matches[3].str();
      std::lock_guard<std::mutex> lock(mu_);
      auto r = repos_.find(repo);
      if (r == repos_.end() || r->second.count(name) == 0) {
        res.status = 404;
        return;
      }
      const std::string content = r->second[name].content;
      ++downloads_;
      if (req.has_header("Range")) ++range_requests_;
      // httplib applies the Range header itself (206 + Content-Range) for a sized provider.
      const size_t cut = cut_after_.exchange(0);
      auto sent = std::make_shared<size_t>(0);
      res.set_content_provider(content.size(), "application/octet-stream",
          [this, content, cut, sent](size_t offset, size_t length, httplib::DataSink& sink) {
            size_t n = std::min(length, content.size() - offset);
            // A cut connection: promise the full length, deliver `cut` bytes, then drop.
            if (cut > 0) {
              if (*sent >= cut) return false;
              n = std::min(n, cut - *sent);
            }
            sink.write(content.data() + offset, n);
            *sent += n;
            served_bytes_ += n;
            return true;
          });
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeHub() {
    server_.stop();
    thread_.join();
  }
  void add(const std::string& repo, const std::string& name, std::string content,
           bool lfs = true, std::string wrong_sha = "") {
    const std::string dir = quorum::testing::temp_dir("hubsrc");
    const std::string tmp = dir + "/f";
    std::ofstream(tmp, std::ios::binary) << content;
    FakeFile f{std::move(content), wrong_sha.empty() ? *sha256_file(tmp) : wrong_sha, lfs};
    std::lock_guard<std::mutex> lock(mu_);
    repos_[repo][name] = std::move(f);
  }
  HubOptions options() const {
    HubOptions o;
    o.endpoint = "http://127.0.0.1:" + std::to_string(port_);
    o.max_retries = 4;
    o.connect_timeout_s = 5;
    o.low_speed_timeout_s = 5;
    return o;
  }
  std::atomic<size_t> cut_after_{0};
  std::atomic<int> downloads_{0}, range_requests_{0};
  std::atomic<size_t> served_bytes_{0};

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, std::map<std::string, FakeFile>> repos_;
};

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

TEST(Hub, ParseRepoSpec) {
  std::string repo, file;
  ASSERT_TRUE(parse_repo_spec("org/model", &repo, &file).is_ok());
  EXPECT_EQ(repo, "org/model");
  EXPECT_EQ(file, "");
  ASSERT_TRUE(parse_repo_spec("TheBloke/Llama-2-7B-GGUF:llama-2-7b.Q4_K_M.gguf", &repo, &file).is_ok());
  EXPECT_EQ(file, "llama-2-7b.Q4_K_M.gguf");
  for (const char* bad : {"model", "/x/y", "org/", "org/../etc", "org/m:../../etc/passwd", "org/m:", "a/b/c"}) {
    Status s = parse_repo_spec(bad, &repo, &file);
    EXPECT_FALSE(s.is_ok()) << bad;
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(Hub, PullsTheOnlyGgufAndVerifiesIt) {
  FakeHub hub;
  const std::string model = quorum::testing::read_file(quorum::testing::shared_path("models/stories260K/stories260K.gguf"));
  hub.add("org/tiny", "stories260K.gguf", model);
  hub.add("org/tiny", "README.md", "# tiny\n", /*lfs=*/false);
  auto info = fetch_repo_info("org/tiny", hub.options());
  ASSERT_TRUE(info) << info.status().to_string();
  auto files = choose_files(*info, "");
  ASSERT_TRUE(files) << files.status().to_string();
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].name, "stories260K.gguf");
  const std::string dest = quorum::testing::temp_dir("hub");
  auto path = download_file(*info, (*files)[0], dest, hub.options());
  ASSERT_TRUE(path) << path.status().to_string();
  EXPECT_EQ(quorum::testing::read_file(*path), model);
  EXPECT_FALSE(fs::exists(*path + ".part"));
  // A second pull finds the verified file and downloads nothing.
  const int before = hub.downloads_;
  ASSERT_TRUE(download_file(*info, (*files)[0], dest, hub.options()));
  EXPECT_EQ(hub.downloads_, before);
}

TEST(Hub, ResumesAfterAConnectionIsCut) {
  FakeHub hub;
  const std::string content = random_bytes(3 << 20, 7);
  hub.add("org/big", "model.gguf", content);
  hub.cut_after_ = 1 << 20;  // the first response dies after 1 MiB
  auto info = fetch_repo_info("org/big", hub.options());
  ASSERT_TRUE(info);
  const std::string dest = quorum::testing::temp_dir("hub");
  auto path = download_file(*info, info->files[0], dest, hub.options());
  ASSERT_TRUE(path) << path.status().to_string();
  EXPECT_EQ(quorum::testing::read_file(*path), content);
  EXPECT_GE(hub.range_requests_, 1);                    // the retry asked for the rest only
  EXPECT_EQ(hub.served_bytes_.load(), content.size());  // nothing was sent twice
}

TEST(Hub, ResumesALeftoverPartFile) {
  FakeHub hub;
  const std::string content = random_bytes(1 << 20, 9);
  hub.add("org/big", "model.gguf", content);
  const std::string dest = quorum::testing::temp_dir("hub");
  fs::create_directories(dest);
  std::ofstream(dest + "/model.gguf.part", std::ios::binary) << content.substr(0, 300000);
  auto info = fetch_repo_info("org/big", hub.options());
  ASSERT_TRUE(info);
  auto path = download_file(*info, info->files[0], dest, hub.options());
  ASSERT_TRUE(path) << path.status().to_string();
  EXPECT_EQ(quorum::testing::read_file(*path), content);
  EXPECT_EQ(hub.served_bytes_.load(), content.size() - 300000);
}

TEST(Hub, ChecksumMismatchIsAnErrorAndLeavesNoFile) {
  FakeHub hub;
  hub.add("org/bad", "model.gguf", random_bytes(5000, 1), true, std::string(64, 'a'));
  auto info = fetch_repo_info("org/bad", hub.options());
  ASSERT_TRUE(info);
  const std::string dest = quorum::testing::temp_dir("hub");
  auto path = download_file(*info, info->files[0], dest, hub.options());
  ASSERT_FALSE(path);
  EXPECT_EQ(path.status().code(), ErrorCode::kCorruptFile);
  EXPECT_NE(path.status().message().find("checksum mismatch"), std::string::npos);
  EXPECT_FALSE(fs::exists(dest + "/model.gguf"));
  EXPECT_FALSE(fs::exists(dest + "/model.gguf.part"));
}

TEST(Hub, ChoosesFilesOrExplains) {
  FakeHub hub;
  hub.add("org/multi", "a.Q4_K_M.gguf", "x");
  hub.add("org/multi", "a.Q8_0.gguf", "y");
  hub.add("org/hf", "model.safetensors", "w");
  hub.add("org/hf", "config.json", "{}", false);
  hub.add("org/hf", "tokenizer.json", "{}", false);
  hub.add("org/hf", "README.md", "r", false);
  auto multi = fetch_repo_info("org/multi", hub.options());
  ASSERT_TRUE(multi);
  auto choice = choose_files(*multi, "");
  ASSERT_FALSE(choice);
  EXPECT_NE(choice.status().message().find("org/multi:a.Q8_0.gguf"), std::string::npos);
  auto one = choose_files(*multi, "a.Q8_0.gguf");
  ASSERT_TRUE(one);
  EXPECT_EQ((*one)[0].name, "a.Q8_0.gguf");
  auto missing = choose_files(*multi, "nope.gguf");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);

  auto hf = fetch_repo_info("org/hf", hub.options());
  ASSERT_TRUE(hf);
  auto files = choose_files(*hf, "");
  ASSERT_TRUE(files);
  std::set<std::string> names;
  for (const auto& f : *files) names.insert(f.name);
  EXPECT_EQ(names, (std::set<std::string>{"model.safetensors", "config.json", "tokenizer.json"}));
}

TEST(Hub, MissingRepositoryAndUnreachableHub) {
  FakeHub hub;
  auto info = fetch_repo_info("org/none", hub.options());
  ASSERT_FALSE(info);
  EXPECT_EQ(info.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(info.status().message().find("HTTP 404"), std::string::npos);

  HubOptions dead = hub.options();
  dead.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  dead.max_retries = 2;
  auto unreachable = fetch_repo_info("org/none", dead);
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(unreachable.status().code(), ErrorCode::kIoError);
  EXPECT_NE(unreachable.status().message().find("cannot reach the hub"), std::string::npos);
}

}  // namespace
}  // namespace quorum::hub
