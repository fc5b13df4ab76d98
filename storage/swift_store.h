// An ObjectStore over one container of a Swift cluster, spoken to with the
// Swift API (auth v1: X-Auth-User/X-Auth-Key -> X-Storage-Url + X-Auth-Token),
// for mappings whose "protocol" is "swift": the cloud-side store is itself a
// Swift cluster. Object names are the same as the S3 layer's keys; user
// metadata travels as X-Object-Meta-*.
#pragma once
#include <mutex>
#include <string>

#include "storage/http_client.h"
#include "storage/object_store.h"

namespace cc {

struct SwiftLocation {
    std::string auth_url;     // e.g. "http://127.0.0.1:8090/auth/v1.0"
    std::string container;
    std::string user, key;    // X-Auth-User / X-Auth-Key
    std::string side;         // "local"
    HttpTimeouts timeouts;
};

class SwiftStore : public ObjectStore {
public:
    explicit SwiftStore(SwiftLocation where);

    ReadResult head(const std::string& key, const ReadOptions& opts) override;
    ReadResult get(const std::string& key, const ReadOptions& opts, BodySink& sink) override;
    Stored put(const std::string& key, const WriteOptions& opts, BodySource& body) override;
    void remove(const std::string& key) override;
    std::optional<std::string> replace_metadata(const std::string& key, const WriteOptions& opts) override;
    ListPage list(const ListRequest& req) override;
    std::string side() const override { return where_.side; }

private:
    SwiftLocation where_;
};

}  // namespace cc
