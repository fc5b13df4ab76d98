// Where writes go, as a layer over the merged store:
//   local          the local store only (the reference's behaviour)
//   write-through  the local store, then the remote one, before the client's
//                  200; if the remote write fails the local copy is removed
//                  and the client gets the error
//   write-back     the local store, then a journal record; a background worker
//                  delivers it to the remote store with retries
// Applies to PUT, multipart completion, copies and metadata updates.
#pragma once
#include <functional>
#include <string>

#include "engine/writeback_journal.h"
#include "storage/object_store.h"

namespace cc {

enum class WritePolicy { Local, WriteThrough, WriteBack };
WritePolicy parse_write_policy(const std::string& name);

// Copies the current local version of `key` to the remote store (streamed).
// Returns false if there is no local copy.
bool deliver_to_remote(ObjectStore& local, ObjectStore& remote, const std::string& key);

class WritePolicyStore : public ObjectStore {
public:
    WritePolicyStore(StorePtr merged, StorePtr local, StorePtr remote, WritePolicy policy, WritebackJournal* journal,
                     PendingUpload identity, std::function<void()> wake_worker);

    ReadResult head(const std::string& key, const ReadOptions& opts) override { return merged_->head(key, opts); }
    ReadResult get(const std::string& key, const ReadOptions& opts, BodySink& sink) override {
        return merged_->get(key, opts, sink);
    }
    std::string put(const std::string& key, const WriteOptions& opts, BodySource& body) override;
    void remove(const std::string& key) override { merged_->remove(key); }
    std::optional<std::string> replace_metadata(const std::string& key, const WriteOptions& opts) override;
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
                                const std::vector<PartInfo>& parts) override;
    void abort_upload(const std::string& key, const std::string& upload_id) override {
        merged_->abort_upload(key, upload_id);
    }
    PartsPage list_parts(const std::string& key, const std::string& upload_id, int part_marker, int max_parts) override {
        return merged_->list_parts(key, upload_id, part_marker, max_parts);
    }
    UploadsPage list_uploads(const UploadsRequest& req) override { return merged_->list_uploads(req); }

private:
    // After a local write of `key` with `etag`: propagate it as the policy says.
    void propagate(const std::string& key, const std::string& etag);
    StorePtr merged_, local_, remote_;
    WritePolicy policy_;
    WritebackJournal* journal_;
    PendingUpload identity_;   // account, container, access key of the writer
    std::function<void()> wake_worker_;
};

}  // namespace cc
