// HTTP conditionals (If-Match, If-None-Match, If-Modified-Since,
// If-Unmodified-Since) evaluated once, here, with S3's precedence rules,
// instead of trusting every backend to implement them the same way:
//   If-Match true makes If-Unmodified-Since irrelevant, If-None-Match false
//   (the ETag matches) makes If-Modified-Since irrelevant.
// A conditional read asks the store below for the object's head first, then
// reads the body only when the conditions hold.
#pragma once
#include "storage/conditions.h"   // evaluate_conditions, has_conditions
#include "storage/object_store.h"

namespace cc {

class ConditionalStore : public ObjectStore {
public:
    explicit ConditionalStore(StorePtr inner) : inner_(std::move(inner)) {}

    ReadResult head(const std::string& key, const ReadOptions& opts) override;
    ReadResult get(const std::string& key, const ReadOptions& opts, BodySink& sink) override;

    std::string put(const std::string& key, const WriteOptions& opts, BodySource& body) override {
        return inner_->put(key, opts, body);
    }
    void remove(const std::string& key) override { inner_->remove(key); }
    std::optional<std::string> replace_metadata(const std::string& key, const WriteOptions& opts) override {
        return inner_->replace_metadata(key, opts);
    }
    ListPage list(const ListRequest& req) override { return inner_->list(req); }
    std::string side() const override { return inner_->side(); }
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

private:
    StorePtr inner_;
};

}  // namespace cc
