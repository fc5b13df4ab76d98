// Cache on read, as a layer over the merged store. When a read falls back to
// the remote store, the bytes stream to the client and, at the same time, into
// the local store under the object's 1space name (with its metadata and a
// marker of the on-prem ETag it was copied from), so the next read is local.
// A cached copy older than `revalidate_after` is checked against the on-prem
// ETag before it is served; a copy whose original changed or vanished is
// dropped and the read goes on-prem. Copies the client wrote are never touched.
#pragma once
#include <string>

#include "engine/cache_fill.h"
#include "storage/forwarding_store.h"

namespace cc {

struct CachePolicy {
    bool fill = false;
    std::uint64_t max_object_size = 5ull << 30;
    int revalidate_after = 300;
};

class CachingStore : public ForwardingStore {
public:
    // `merged` answers reads (local first); fills go into `local`, revalidation asks `remote`.
    // `id` names the container ("account/container") for one-fill-per-object bookkeeping.
    CachingStore(StorePtr merged, StorePtr local, StorePtr remote, CachePolicy policy, std::string id);

    ReadResult head(const std::string& key, const ReadOptions& opts) override;
    ReadResult get(const std::string& key, const ReadOptions& opts, BodySink& sink) override;

    // Writes through this instance first settle a fill of the same key that may
    // be running (CacheFill::supersede), so an acknowledged write is never
    // overwritten by a cached copy of the older on-prem version.
    Stored put(const std::string& key, const WriteOptions& opts, BodySource& body) override {
        CacheFill::supersede(fill_id(key));
        return inner_->put(key, opts, body);
    }
    void remove(const std::string& key) override {
        CacheFill::supersede(fill_id(key));
        inner_->remove(key);
    }
    std::optional<std::string> replace_metadata(const std::string& key, const WriteOptions& opts) override {
        CacheFill::supersede(fill_id(key));
        return inner_->replace_metadata(key, opts);
    }
    std::string complete_upload(const std::string& key, const std::string& upload_id,
                                const std::vector<PartInfo>& parts) override {
        CacheFill::supersede(fill_id(key));
        return inner_->complete_upload(key, upload_id, parts);
    }

    static constexpr const char* kMarker = "cc-cached-etag";   // x-amz-meta-cc-cached-etag on cached copies

private:
    std::string fill_id(const std::string& key) const { return id_ + "/" + key; }
    // For a local answer carrying the marker: is the copy still the on-prem version?
    bool still_current(const ReadResult& local_head);

    StorePtr local_, remote_;
    CachePolicy policy_;
    std::string id_;
};

}  // namespace cc
