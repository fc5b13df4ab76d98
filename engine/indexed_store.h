// The presence index as a layer over one side's store (local or remote) of one
// container. Writes through this instance update the index synchronously, so
// the next listing shows them; listings come from the index when it is fresh
// enough, from the live store otherwise, and from the index again when the
// live store fails (a degraded, marked answer instead of a 503).
#pragma once
#include <string>

#include "engine/presence_index.h"
#include "storage/object_store.h"

namespace cc {

enum class ListingMode { Auto, Index, Live };

struct IndexPolicy {
    ListingMode mode = ListingMode::Auto;
    int max_staleness = 90;   // seconds since the last completed refresh pass
};

class IndexedStore : public ObjectStore {
public:
    IndexedStore(StorePtr inner, PresenceIndex& index, IndexPolicy policy, Side side, std::string account,
                 std::string container);

    ReadResult head(const std::string& key, const ReadOptions& opts) override { return inner_->head(key, opts); }
    ReadResult get(const std::string& key, const ReadOptions& opts, BodySink& sink) override {
        return inner_->get(key, opts, sink);
    }
    std::string put(const std::string& key, const WriteOptions& opts, BodySource& body) override;
    void remove(const std::string& key) override;
    std::optional<std::string> replace_metadata(const std::string& key, const WriteOptions& opts) override;
    ListPage list(const ListRequest& req) override;
    std::string side() const override { return inner_->side(); }

    std::string create_upload(const std::string& key, const WriteOptions& opts) override {
        return inner_->create_upload(key, opts);
    }
    std::string upload_part(const std::string& key, const std::string& upload_id, int part_number,
                            BodySource& body, const std::string& content_md5) override {
        return inner_->upload_part(key, upload_id, part_number, body, content_md5);
    }
    std::string complete_upload(const std::string& key, const std::string& upload_id,
                                const std::vector<PartInfo>& parts) override;
    void abort_upload(const std::string& key, const std::string& upload_id) override {
        inner_->abort_upload(key, upload_id);
    }
    PartsPage list_parts(const std::string& key, const std::string& upload_id, int part_marker, int max_parts) override {
        return inner_->list_parts(key, upload_id, part_marker, max_parts);
    }
    UploadsPage list_uploads(const UploadsRequest& req) override { return inner_->list_uploads(req); }

    // True when the last completed refresh pass of this side is recent enough.
    bool fresh() const;

private:
    void learn(const std::string& key);   // records the store's current head of `key`
    StorePtr inner_;
    PresenceIndex& index_;
    IndexPolicy policy_;
    Side side_;
    std::string account_, container_;
};

}  // namespace cc
