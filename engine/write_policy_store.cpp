#include "engine/write_policy_store.h"

#include "common/log.h"
#include "common/s3error.h"
#include "engine/copy_through.h"

namespace cc {

WritePolicy parse_write_policy(const std::string& name) {
    if (name == "write-through") return WritePolicy::WriteThrough;
    if (name == "write-back") return WritePolicy::WriteBack;
    return WritePolicy::Local;
}

bool deliver_to_remote(ObjectStore& local, ObjectStore& remote, const std::string& key) {
    CopyOutcome out = copy_through(local, key, ReadOptions{}, [&](BodySource& body, const ReadResult& head) {
        WriteOptions w;
        w.content_type = head.info.content_type;
        w.user_meta = head.info.user_meta;
        w.headers = head.info.headers;
        return remote.put(key, w, body).etag;
    });
    if (!out.written) return false;
    // The local copy now has an identical twin on-prem: evictable under a capacity limit.
    try {
        local.mark_clean(key, out.source.info);
    } catch (const std::exception& e) {
        log::warning("delivered '", key, "' on-prem but could not mark its local copy evictable: ", for_log(e));
    }
    return true;
}

WritePolicyStore::WritePolicyStore(StorePtr merged, StorePtr local, StorePtr remote, WritePolicy policy,
                                   WritebackJournal* journal, PendingUpload identity, std::function<void()> wake_worker)
    : ForwardingStore(std::move(merged)), local_(std::move(local)), remote_(std::move(remote)), policy_(policy),
      journal_(journal), identity_(std::move(identity)), wake_worker_(std::move(wake_worker)) {}

void WritePolicyStore::propagate(const std::string& key, const std::string& etag) {
    if (policy_ == WritePolicy::WriteThrough) {
        try {
            if (!deliver_to_remote(*local_, *remote_, key))
                throw unavailable("the local copy vanished before it could be written on-prem");
        } catch (const S3Error& e) {
            // No local copy may pretend a success the remote store did not confirm.
            try {
                local_->remove(key);
            } catch (const std::exception& cleanup) {
                log::error("write-through of '", key, "' failed and its local copy could not be removed: ",
                           for_log(cleanup));
            }
            S3Error refused(e.status() >= 500 ? 503 : e.status(), e.status() >= 500 ? "ServiceUnavailable" : e.code(),
                            std::string("write-through: the remote store did not take the object, so it was not "
                                        "stored: ") + e.what());
            refused.operator_detail = e.operator_detail;
            throw refused;
        }
    } else if (policy_ == WritePolicy::WriteBack && journal_) {
        PendingUpload p = identity_;
        p.key = key;
        p.etag = etag;
        p.enqueued = p.next_attempt = std::time(nullptr);
        journal_->enqueue(p);   // durable before the client hears 200
        if (wake_worker_) wake_worker_();
    }
}

Stored WritePolicyStore::put(const std::string& key, const WriteOptions& opts, BodySource& body) {
    Stored written = inner_->put(key, opts, body);
    propagate(key, written.etag);
    return written;
}

std::string WritePolicyStore::complete_upload(const std::string& key, const std::string& upload_id,
                                              const std::vector<PartInfo>& parts) {
    std::string etag = inner_->complete_upload(key, upload_id, parts);
    propagate(key, etag);
    return etag;
}

std::optional<std::string> WritePolicyStore::replace_metadata(const std::string& key, const WriteOptions& opts) {
    // Applied to the local copy if there is one (then propagated), else on-prem directly.
    const bool had_local = local_->head(key, ReadOptions{}).found();
    std::optional<std::string> etag = inner_->replace_metadata(key, opts);
    if (etag && had_local && policy_ != WritePolicy::Local) propagate(key, *etag);
    return etag;
}

}  // namespace cc
