#include "engine/merged_store.h"

#include "common/metrics.h"
#include "engine/list_merge.h"

namespace cc {

MergedStore::MergedStore(StorePtr local, StorePtr remote, RemoteFirst remote_first)
    : local_(std::move(local)), remote_(std::move(remote)), remote_first_(std::move(remote_first)) {}

template <class Read>
ReadResult MergedStore::read_in_order(const std::string& key, Read read, const bool& body_started) {
    // A "not found" never touched the sink, so the other store may still use it.
    if (!remote_first_ || !remote_first_(key)) {
        ReadResult r = read(*local_);
        return r.found() ? r : read(*remote_);
    }
    auto counted = [](ReadResult r) {
        metrics::add("cc_index_routed_reads_total", {{"answered_by", r.found() ? r.answered_by : "none"}});
        return r;
    };
    try {
        ReadResult r = read(*remote_);
        if (r.found()) return counted(std::move(r));
    } catch (const S3Error& e) {
        // On-prem failing: a local copy (written since the index looked) still
        // answers; without one, the on-prem failure is the answer, never a 404.
        // A failure after the first byte is not retried: the client has a partial body.
        if (e.status() < 500 || body_started) throw;
        ReadResult r = read(*local_);
        if (r.found()) return counted(std::move(r));
        throw;
    }
    return counted(read(*local_));
}

ReadResult MergedStore::head(const std::string& key, const ReadOptions& opts) {
    const bool no_body = false;
    return read_in_order(key, [&](ObjectStore& store) { return store.head(key, opts); }, no_body);
}

ReadResult MergedStore::get(const std::string& key, const ReadOptions& opts, BodySink& sink) {
    struct Watched : BodySink {
        BodySink& client;
        bool begun = false;
        explicit Watched(BodySink& c) : client(c) {}
        void begin(const ReadResult& head) override {
            begun = true;
            client.begin(head);
        }
        void write(const char* data, std::size_t n) override { client.write(data, n); }
    } watched(sink);
    return read_in_order(key, [&](ObjectStore& store) { return store.get(key, opts, watched); }, watched.begun);
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
