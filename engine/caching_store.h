// Cache on read, as a layer over the merged store. When a read falls back to
// the remote store, the bytes stream to the client and, at the same time, into
// the local store under the object's 1space name (with its metadata and a
// marker of the on-prem ETag it was copied from), so the next read is local.
// A cached copy older than `revalidate_after` is checked against the on-prem
// ETag before it is served; a copy whose original changed or vanished is
// dropped and the read goes on-prem. Copies the client wrote are never touched.
#pragma once
#include <string>

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

    static constexpr const char* kMarker = "cc-cached-etag";   // x-amz-meta-cc-cached-etag on cached copies

private:
    // For a local answer carrying the marker: is the copy still the on-prem version?
    bool still_current(const ReadResult& local_head);

    StorePtr local_, remote_;
    CachePolicy policy_;
    std::string id_;
};

}  // namespace cc
