#include "engine/startup.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "engine/credentials.h"
#include "engine/ini.h"

namespace cc {
namespace {

std::string env(const char* name, const char* fallback = "") {
    const char* v = std::getenv(name);
    return v ? v : fallback;
}

Startup from_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("--config " + path + ": cannot be read");
    std::ostringstream buf;
    buf << in.rdbuf();
    auto dir = std::filesystem::absolute(path).parent_path().string();
    Startup s;
    s.main_config_text = buf.str();
    s.origin = path;
    s.source = std::make_unique<DirectoryConfigSource>(dir);
    return s;
}

Startup from_bucket() {
    const std::string bucket = env("CONF_BUCKET");
    if (bucket.empty()) throw std::runtime_error("CONF_BUCKET: missing (or pass --config PATH to read a local file)");
    std::string endpoint = env("CONF_ENDPOINT");
    std::string region = env("AWS_DEFAULT_REGION", env("AWS_REGION", "us-east-1").c_str());
    if (endpoint.empty()) endpoint = "https://s3.amazonaws.com";
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    const std::string name = env("CONF_NAME", "cloud-connector.conf");
    const auto slash = name.rfind('/');
    const std::string prefix = slash == std::string::npos ? "" : name.substr(0, slash + 1);

    S3Location where{endpoint, bucket, region, "config", {}};
    auto store = std::make_shared<S3Store>(where, credentials_from_environment());
    auto source = std::make_unique<BucketConfigSource>(store, prefix, endpoint + "/" + bucket);
    auto main_config = source->fetch(name.substr(prefix.size()), "");
    Startup s;
    s.main_config_text = main_config->content;
    s.origin = source->describe(name.substr(prefix.size()));
    s.source = std::move(source);
    return s;
}

}  // namespace

Startup load_startup(const std::string& config_path) {
    Startup s = config_path.empty() ? from_bucket() : from_file(config_path);
    s.settings = settings_from_ini(IniFile::parse(s.main_config_text, s.origin));
    return s;
}

}  // namespace cc
