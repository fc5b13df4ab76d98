// The 1space layout as a layer: the client's key K of container C in account A
// lives in the cloud bucket as layout::object_prefix(A, C) + K, and non-ASCII
// metadata values are RFC 2047 encoded words there. Everything else forwards.
#pragma once
#include <optional>
#include <string>

#include "storage/object_store.h"

namespace cc {

class LayoutStore : public ObjectStore {
public:
    LayoutStore(StorePtr inner, std::string prefix, bool hide_manifests);

    ReadResult head(const std::string& key, const ReadOptions& opts) override;
    ReadResult get(const std::string& key, const ReadOptions& opts, BodySink& sink) override;
    Stored put(const std::string& key, const WriteOptions& opts, BodySource& body) override;
    void remove(const std::string& key) override;
    std::optional<std::string> replace_metadata(const std::string& key, const WriteOptions& opts) override;
    ListPage list(const ListRequest& req) override;
    std::string side() const override { return inner_->side(); }
    bool mark_clean(const std::string& key, const ObjectInfo& as_read) override {
        return inner_->mark_clean(prefix_ + key, as_read);
    }

    std::string create_upload(const std::string& key, const WriteOptions& opts) override;
    std::string upload_part(const std::string& key, const std::string& upload_id, int part_number,
                            BodySource& body, const std::string& content_md5) override;
    std::string complete_upload(const std::string& key, const std::string& upload_id,
                                const std::vector<PartInfo>& parts) override;
    void abort_upload(const std::string& key, const std::string& upload_id) override;
    PartsPage list_parts(const std::string& key, const std::string& upload_id, int part_marker, int max_parts) override;
    UploadsPage list_uploads(const UploadsRequest& req) override;

private:
    ReadResult decoded(ReadResult r, const std::string& key) const;
    StorePtr inner_;
    std::string prefix_;
    bool hide_manifests_;
};

// Encodes/decodes metadata values for stores that keep them as 1space does.
WriteOptions encode_metadata(const WriteOptions& opts);
void decode_metadata(ObjectInfo& info);

}  // namespace cc
