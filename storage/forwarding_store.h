// The base of every layer: forwards each call to the store below. A layer
// (index, conditionals, caching, write policy) derives from it and overrides
// only what it changes, so adding an operation to ObjectStore touches one place.
#pragma once
#include "storage/object_store.h"

namespace cc {

class ForwardingStore : public ObjectStore {
public:
    explicit ForwardingStore(StorePtr inner) : inner_(std::move(inner)) {}

    ReadResult head(const std::string& key, const ReadOptions& opts) override { return inner_->head(key, opts); }
    ReadResult get(const std::string& key, const ReadOptions& opts, BodySink& sink) override {
        return inner_->get(key, opts, sink);
    }
    Stored put(const std::string& key, const WriteOptions& opts, BodySource& body) override {
        return inner_->put(key, opts, body);
    }
    void remove(const std::string& key) override { inner_->remove(key); }
    std::optional<std::string> replace_metadata(const std::string& key, const WriteOptions& opts) override {
        return inner_->replace_metadata(key, opts);
    }
    ListPage list(const ListRequest& req) override { return inner_->list(req); }
    std::string side() const override { return inner_->side(); }
    bool mark_clean(const std::string& key, const ObjectInfo& as_read) override {
        return inner_->mark_clean(key, as_read);
    }
    std::string create_upload(const std::string& key, const WriteOptions& opts) override {
        return inner_->create_upload(key, opts);
    }
    std::string upload_part(const std::string& key, const std::string& upload_id, int part_number,
                            BodySource& body, const std::string& content_md5) override {
        return inner_->upload_part(key, upload_id, part_number, body, content_md5);
    }
    std::string complete_upload(const std::string& key, const std::string& upload_id,
                                const std::vector<PartInfo>& parts) override {
        return inner_->complete_upload(key, upload_id, parts);
    }
    void abort_upload(const std::string& key, const std::string& upload_id) override {
        inner_->abort_upload(key, upload_id);
    }
    PartsPage list_parts(const std::string& key, const std::string& upload_id, int part_marker, int max_parts) override {
        return inner_->list_parts(key, upload_id, part_marker, max_parts);
    }
    UploadsPage list_uploads(const UploadsRequest& req) override { return inner_->list_uploads(req); }

protected:
    StorePtr inner_;
};

}  // namespace cc
