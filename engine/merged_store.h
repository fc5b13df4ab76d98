// One namespace over two stores: reads try the local (cloud) store first and
// fall back to the remote (on-prem) store only when the local one says "not
// here"; writes and deletes touch the local store only; listings merge both.
// A store that fails raises S3Error (503), never a wrong "not found".
//
// With a `remote_first` predicate (read_routing = index), a key the predicate
// names (the presence index is fresh and has no local copy of it) is read from
// the remote store first, saving the local lookup that would miss; a remote
// "not found" or failure still asks the local store, so a key written locally
// since the index last looked is found (docs/consistency.md).
#pragma once
#include <functional>

#include "storage/object_store.h"

namespace cc {

class MergedStore : public ObjectStore {
public:
    using RemoteFirst = std::function<bool(const std::string& key)>;
    MergedStore(StorePtr local, StorePtr remote, RemoteFirst remote_first = nullptr);

    ReadResult head(const std::string& key, const ReadOptions& opts) override;
    ReadResult get(const std::string& key, const ReadOptions& opts, BodySink& sink) override;
    Stored put(const std::string& key, const WriteOptions& opts, BodySource& body) override;
    void remove(const std::string& key) override;
    // Applied to the local copy if there is one, else to the on-prem copy.
    std::optional<std::string> replace_metadata(const std::string& key, const WriteOptions& opts) override;
    ListPage list(const ListRequest& req) override;
    std::string side() const override { return "merged"; }

    // Multipart uploads build a local object: they go to the local store.
    std::string create_upload(const std::string& key, const WriteOptions& opts) override {
        return local_->create_upload(key, opts);
    }
    std::string upload_part(const std::string& key, const std::string& upload_id, int part_number,
                            BodySource& body, const std::string& content_md5) override {
        return local_->upload_part(key, upload_id, part_number, body, content_md5);
    }
    std::string complete_upload(const std::string& key, const std::string& upload_id,
                                const std::vector<PartInfo>& parts) override {
        return local_->complete_upload(key, upload_id, parts);
    }
    void abort_upload(const std::string& key, const std::string& upload_id) override {
        local_->abort_upload(key, upload_id);
    }
    PartsPage list_parts(const std::string& key, const std::string& upload_id, int part_marker, int max_parts) override {
        return local_->list_parts(key, upload_id, part_marker, max_parts);
    }
    UploadsPage list_uploads(const UploadsRequest& req) override { return local_->list_uploads(req); }

private:
    // Reads with `read(store)` in the order this key calls for; `body_started`
    // tells whether a failed read already sent the client part of a body.
    // `routed`, if given, is set before the remote store is asked first.
    template <class Read>
    ReadResult read_in_order(const std::string& key, Read read, const bool& body_started, bool* routed);

    StorePtr local_, remote_;
    RemoteFirst remote_first_;
};

}  // namespace cc
