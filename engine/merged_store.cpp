#include "engine/merged_store.h"

#include <exception>

#include "common/metrics.h"
#include "engine/list_merge.h"

namespace cc {

MergedStore::MergedStore(StorePtr local, StorePtr remote, RemoteFirst remote_first)
    : local_(std::move(local)), remote_(std::move(remote)), remote_first_(std::move(remote_first)) {}

template <class Read>
ReadResult MergedStore::read_in_order(const std::string& key, Read read, const bool& body_started, bool* routed) {
    // A "not found" never touched the sink, so the other store may still use it.
    if (!remote_first_ || !remote_first_(key)) {
        ReadResult r = read(*local_);
        return r.found() ? r : read(*remote_);
    }
    if (routed) *routed = true;
    auto counted = [](ReadResult r) {
        metrics::add("cc_index_routed_reads_total", {{"answered_by", r.found() ? r.answered_by : "none"}});
        return r;
    };
    // Only an object from on-prem settles a routed read. Anything else (not
    // found, 412/416, on-prem down or refusing) asks the local store, whose copy
    // (written since the index looked) wins as it would have under local-first;
    // without one, the on-prem answer or error stands (never a 404 for a 503).
    // A failure after the first byte is not retried: the client has a partial body.
    ReadResult remote;
    std::exception_ptr remote_error;
    try {
        remote = read(*remote_);
        if (remote.status == ReadResult::Status::Ok || remote.status == ReadResult::Status::Partial) {
            remote.local_skipped = true;
            return counted(std::move(remote));
        }
    } catch (const S3Error&) {
        if (body_started) throw;
        remote_error = std::current_exception();
    }
    ReadResult local = read(*local_);
    if (local.found()) return counted(std::move(local));
    if (remote_error) std::rethrow_exception(remote_error);
    return counted(remote.found() ? std::move(remote) : std::move(local));
}

ReadResult MergedStore::head(const std::string& key, const ReadOptions& opts) {
    const bool no_body = false;
    return read_in_order(key, [&](ObjectStore& store) { return store.head(key, opts); }, no_body, nullptr);
}

ReadResult MergedStore::get(const std::string& key, const ReadOptions& opts, BodySink& sink) {
    // Tells the layers above (a cache fill) whether the answer they are about
    // to stream was read without asking the local store first.
    struct Watched : BodySink {
        BodySink& client;
        bool begun = false, routed = false;
        explicit Watched(BodySink& c) : client(c) {}
        void begin(const ReadResult& head) override {
            begun = true;
            if (!routed || head.answered_by == "local") return client.begin(head);
            ReadResult marked = head;
            marked.local_skipped = true;
            client.begin(marked);
        }
        void write(const char* data, std::size_t n) override { client.write(data, n); }
    } watched(sink);
    return read_in_order(key, [&](ObjectStore& store) { return store.get(key, opts, watched); }, watched.begun,
                         &watched.routed);
}

Stored MergedStore::put(const std::string& key, const WriteOptions& opts, BodySource& body) {
    return local_->put(key, opts, body);
}

void MergedStore::remove(const std::string& key) { local_->remove(key); }

std::optional<std::string> MergedStore::replace_metadata(const std::string& key, const WriteOptions& opts) {
    if (auto etag = local_->replace_metadata(key, opts)) return etag;
    return remote_->replace_metadata(key, opts);
}

ListPage MergedStore::list(const ListRequest& req) { return merge_listings(*local_, *remote_, req); }

}  // namespace cc
