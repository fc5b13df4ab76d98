#include "engine/config_source.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/crypto.h"
#include "common/s3error.h"

namespace cc {

DirectoryConfigSource::DirectoryConfigSource(std::string dir) : dir_(std::move(dir)) {}

std::string DirectoryConfigSource::describe(const std::string& name) const {
    return !name.empty() && name[0] == '/' ? name : dir_ + "/" + name;
}

std::optional<ConfigFile> DirectoryConfigSource::fetch(const std::string& name, const std::string& known_version) {
    const std::string path = describe(name);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot be read");
    std::ostringstream buf;
    buf << in.rdbuf();
    ConfigFile f{buf.str(), ""};
    // Content hash rather than mtime: an edit within the same second, or a
    // copy that preserves mtime, is still seen.
    f.version = sha256_hex(f.content);
    if (f.version == known_version) return std::nullopt;
    return f;
}

BucketConfigSource::BucketConfigSource(std::shared_ptr<S3Store> bucket, std::string prefix, std::string description)
    : bucket_(std::move(bucket)), prefix_(std::move(prefix)), description_(std::move(description)) {}

std::string BucketConfigSource::describe(const std::string& name) const { return description_ + "/" + prefix_ + name; }

std::optional<ConfigFile> BucketConfigSource::fetch(const std::string& name, const std::string& known_version) {
    struct Collect : BodySink {
        std::string data;
        void begin(const ReadResult&) override {}
        void write(const char* d, std::size_t n) override {
            if (data.size() + n > (64u << 20)) throw std::runtime_error("config file larger than 64 MiB");
            data.append(d, n);
        }
    } collect;
    ReadOptions opts;
    opts.if_none_match = known_version;
    ReadResult r;
    try {
        r = bucket_->get(prefix_ + name, opts, collect);
    } catch (const std::exception& e) {
        throw std::runtime_error(describe(name) + ": " + for_log(e));
    }
    if (r.status == ReadResult::Status::NotModified) return std::nullopt;
    if (!r.found()) throw std::runtime_error(describe(name) + ": no such object");
    return ConfigFile{std::move(collect.data), r.info.etag};
}

}  // namespace cc
