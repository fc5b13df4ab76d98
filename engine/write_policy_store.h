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
#include "storage/forwarding_store.h"

namespace cc {

enum class WritePolicy { Local, WriteThrough, WriteBack };
WritePolicy parse_write_policy(const std::string& name);

// Copies the current local version of `key` to the remote store (streamed).
// Returns false if there is no local copy. The delivered local version is then
// marked clean (evictable), unless a newer one replaced it meanwhile.
bool deliver_to_remote(ObjectStore& local, ObjectStore& remote, const std::string& key);

class WritePolicyStore : public ForwardingStore {
public:
    WritePolicyStore(StorePtr merged, StorePtr local, StorePtr remote, WritePolicy policy, WritebackJournal* journal,
                     PendingUpload identity, std::function<void()> wake_worker);

    Stored put(const std::string& key, const WriteOptions& opts, BodySource& body) override;
    std::optional<std::string> replace_metadata(const std::string& key, const WriteOptions& opts) override;
    std::string complete_upload(const std::string& key, const std::string& upload_id,
                                const std::vector<PartInfo>& parts) override;

private:
    // After a local write of `key` with `etag`: propagate it as the policy says.
    void propagate(const std::string& key, const std::string& etag);
    StorePtr local_, remote_;
    WritePolicy policy_;
    WritebackJournal* journal_;
    PendingUpload identity_;   // account, container, access key of the writer
    std::function<void()> wake_worker_;
};

}  // namespace cc
