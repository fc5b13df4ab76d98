// Cache on read, as a layer over the merged store. When a read falls back to
// the remote store, the bytes stream to the client and, at the same time, into
// the local store under the object's 1space name (with its metadata and a
// marker of the on-prem ETag it was copied from), so the next read is local.
// A cached copy older than `revalidate_after` is checked against the on-prem
// ETag before it is served; a copy whose original changed or vanished is
// dropped and the read goes on-prem. Copies the client wrote are never touched.
#pragma once
#include <string>

#include "storage/object_store.h"

namespace cc {

struct CachePolicy {
    bool fill = false;
    std::uint64_t max_object_size = 5ull << 30;
    int revalidate_after = 300;
};

class CachingStore : public ObjectStore {
public:
    // `merged` answers reads (local first); fills go into `local`, revalidation asks `remote`.
    // `id` names the container ("account/container") for one-fill-per-object bookkeeping.
    CachingStore(StorePtr merged, StorePtr local, StorePtr remote, CachePolicy policy, std::string id);

    ReadResult head(const std::string& key, const ReadOptions& opts) override;
    ReadResult get(const std::string& key, const ReadOptions& opts, BodySink& sink) override;

    std::string put(const std::string& key, const WriteOptions& opts, BodySource& body) override {
        return merged_->put(key, opts, body);
    }
    void remove(const std::string& key) override { merged_->remove(key); }
    std::optional<std::string> replace_metadata(const std::string& key, const WriteOptions& opts) override {
        return merged_->replace_metadata(key, opts);
    }
    ListPage list(const ListRequest& req) override { return merged_->list(req); }
    std::string side() const override { return merged_->side(); }
    std::string create_upload(const std::string& key, const WriteOptions& opts) override {
        return merged_->create_upload(key, opts);
    }
    std::string upload_part(const std::string& key, const std::string& upload_id, int part_number,
                            BodySource& body, const std::string& content_md5) override {
        return merged_->upload_part(key, upload_id, part_number, body, content_md5);
    }
    std::string complete_upload(const std::string& key, const std::string& upload_id,
                                const std::vector<PartInfo>& parts) override {
        return merged_->complete_upload(key, upload_id, parts);
    }
    void abort_upload(const std::string& key, const std::string& upload_id) override {
        merged_->abort_upload(key, upload_id);
    }
    PartsPage list_parts(const std::string& key, const std::string& upload_id, int part_marker, int max_parts) override {
        return merged_->list_parts(key, upload_id, part_marker, max_parts);
    }
    UploadsPage list_uploads(const UploadsRequest& req) override { return merged_->list_uploads(req); }

    static constexpr const char* kMarker = "cc-cached-etag";   // x-amz-meta-cc-cached-etag on cached copies

private:
    // For a local answer carrying the marker: is the copy still the on-prem version?
    bool still_current(const ReadResult& local_head);
    ReadResult get_remote_filling(const std::string& key, const ReadOptions& opts, BodySink& sink);

    StorePtr merged_, local_, remote_;
    CachePolicy policy_;
    std::string id_;
};

}  // namespace cc
