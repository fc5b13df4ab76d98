#include "engine/merged_store.h"

#include "engine/list_merge.h"

namespace cc {

MergedStore::MergedStore(StorePtr local, StorePtr remote) : local_(std::move(local)), remote_(std::move(remote)) {}

ReadResult MergedStore::head(const std::string& key, const ReadOptions& opts) {
    ReadResult r = local_->head(key, opts);
    return r.found() ? r : remote_->head(key, opts);
}

ReadResult MergedStore::get(const std::string& key, const ReadOptions& opts, BodySink& sink) {
    // A local "not found" never touched the sink, so the remote may still use it.
    ReadResult r = local_->get(key, opts, sink);
    return r.found() ? r : remote_->get(key, opts, sink);
}

std::string MergedStore::put(const std::string& key, const WriteOptions& opts, BodySource& body) {
    return local_->put(key, opts, body);
}

void MergedStore::remove(const std::string& key) { local_->remove(key); }

std::optional<std::string> MergedStore::replace_metadata(const std::string& key, const WriteOptions& opts) {
    if (auto etag = local_->replace_metadata(key, opts)) return etag;
    return remote_->replace_metadata(key, opts);
}

ListPage MergedStore::list(const ListRequest& req) { return merge_listings(*local_, *remote_, req); }

}  // namespace cc
