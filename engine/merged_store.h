// One namespace over two stores: reads try the local (cloud) store first and
// fall back to the remote (on-prem) store only when the local one says "not
// here"; writes and deletes touch the local store only; listings merge both.
// A store that fails raises S3Error (503), never a wrong "not found".
#pragma once
#include "storage/object_store.h"

namespace cc {

class MergedStore : public ObjectStore {
public:
    MergedStore(StorePtr local, StorePtr remote);

    ReadResult head(const std::string& key, const ReadOptions& opts) override;
    ReadResult get(const std::string& key, const ReadOptions& opts, BodySink& sink) override;
    std::string put(const std::string& key, const WriteOptions& opts, BodySource& body) override;
    void remove(const std::string& key) override;
    // Applied to the local copy if there is one, else to the on-prem copy.
    std::optional<std::string> replace_metadata(const std::string& key, const WriteOptions& opts) override;
    ListPage list(const ListRequest& req) override;
    std::string side() const override { return "merged"; }

private:
    StorePtr local_, remote_;
};

}  // namespace cc
