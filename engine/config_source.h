// Where the config files come from: a directory (--config PATH) or the config
// bucket (CONF_BUCKET/CONF_ENDPOINT/CONF_NAME). Both answer conditional reads,
// so a reload that finds nothing changed costs no parsing.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "storage/s3_store.h"

namespace cc {

struct ConfigFile {
    std::string content;
    std::string version;   // content hash (files) or ETag (bucket)
};

class ConfigSource {
public:
    virtual ~ConfigSource() = default;
    // nullopt when the file still has `known_version`; throws std::runtime_error
    // (naming the file) when it cannot be read.
    virtual std::optional<ConfigFile> fetch(const std::string& name, const std::string& known_version) = 0;
    virtual std::string describe(const std::string& name) const = 0;
};

// Files named relative to the directory of the main config file.
class DirectoryConfigSource : public ConfigSource {
public:
    explicit DirectoryConfigSource(std::string dir);
    std::optional<ConfigFile> fetch(const std::string& name, const std::string& known_version) override;
    std::string describe(const std::string& name) const override;
private:
    std::string dir_;
};

// Objects named relative to the "directory" part of CONF_NAME in the config bucket.
class BucketConfigSource : public ConfigSource {
public:
    BucketConfigSource(std::shared_ptr<S3Store> bucket, std::string prefix, std::string description);
    std::optional<ConfigFile> fetch(const std::string& name, const std::string& known_version) override;
    std::string describe(const std::string& name) const override;
private:
    std::shared_ptr<S3Store> bucket_;
    std::string prefix_, description_;
};

}  // namespace cc
