#include "engine/caching_store.h"

#include <algorithm>

#include "common/log.h"
#include "common/s3error.h"
#include "engine/cache_fill.h"

namespace cc {
namespace {

const std::string* marker_of(const ObjectInfo& info) {
    for (const auto& [k, v] : info.user_meta)
        if (k == CachingStore::kMarker) return &v;
    return nullptr;
}

void strip_marker(ObjectInfo& info) {
    auto& m = info.user_meta;
    m.erase(std::remove_if(m.begin(), m.end(), [](const auto& kv) { return kv.first == CachingStore::kMarker; }),
            m.end());
}

}  // namespace

CachingStore::CachingStore(StorePtr merged, StorePtr local, StorePtr remote, CachePolicy policy, std::string id)
    : ForwardingStore(std::move(merged)), local_(std::move(local)), remote_(std::move(remote)), policy_(policy),
      id_(std::move(id)) {}

bool CachingStore::still_current(const ReadResult& head) {
    const std::string* marker = marker_of(head.info);
    if (!marker || std::time(nullptr) - head.info.last_modified < policy_.revalidate_after) return true;
    try {
        ReadResult origin = remote_->head(head.info.key, ReadOptions{});
        if (origin.found() && origin.info.etag == *marker) return true;
    } catch (const S3Error& e) {
        // On-prem unreachable: serve the cached copy rather than nothing.
        log::warning("cannot revalidate cached copy of '", head.info.key, "', serving it: ", for_log(e));
        return true;
    }
    log::info("cached copy of '", head.info.key, "' is stale (on-prem changed or deleted): dropping it");
    local_->remove(head.info.key);
    return false;
}

ReadResult CachingStore::head(const std::string& key, const ReadOptions& opts) {
    ReadResult r = inner_->head(key, opts);
    if (r.found() && r.answered_by == "local" && !still_current(r)) r = remote_->head(key, opts);
    strip_marker(r.info);
    return r;
}

ReadResult CachingStore::get(const std::string& key, const ReadOptions& opts, BodySink& sink) {
    // One sink for every path. It looks at the head before any byte reaches the
    // client: a cached copy due for revalidation aborts the read (no backend
    // call may run inside a transfer's callback; it is checked outside and the
    // read retried), and a remote answer, when filling, is teed into the local
    // store as it streams. The merged store below decides which side answers.
    struct NeedsCheck {};
    struct Tee : BodySink {
        CachingStore& self;
        const std::string& key;
        const ReadOptions& opts;
        BodySink& client;
        bool checked = false;
        std::unique_ptr<CacheFill> fill;
        std::uint64_t expected = 0, offered = 0;
        Tee(CachingStore& s, const std::string& k, const ReadOptions& o, BodySink& c)
            : self(s), key(k), opts(o), client(c) {}
        void begin(const ReadResult& head) override {
            const CachePolicy& policy = self.policy_;
            if (!checked && head.answered_by == "local" && marker_of(head.info) &&
                std::time(nullptr) - head.info.last_modified >= policy.revalidate_after)
                throw NeedsCheck{};
            // Only whole objects fill: a ranged read has partial bytes.
            if (policy.fill && head.answered_by == "remote" && opts.range.empty() &&
                head.status == ReadResult::Status::Ok && head.content_length <= policy.max_object_size) {
                WriteOptions w;
                w.content_type = head.info.content_type;
                w.user_meta = head.info.user_meta;
                w.user_meta.emplace_back(kMarker, head.info.etag);
                w.headers = head.info.headers;
                w.clean = true;   // an identical copy exists on-prem: evictable
                expected = head.content_length;
                fill = CacheFill::start(*self.local_, self.fill_id(key), key, std::move(w), expected,
                                        head.local_skipped);
            }
            ReadResult clean = head;
            strip_marker(clean.info);
            client.begin(clean);
        }
        void write(const char* d, std::size_t n) override {
            client.write(d, n);   // the client first: a fill never slows it
            if (fill) fill->offer(d, n);
            offered += n;
        }
        ReadResult read(ObjectStore& from) {
            ReadResult r;
            try {
                r = from.get(key, opts, *this);
            } catch (const NeedsCheck&) {
                throw;
            } catch (...) {
                if (fill) fill->finish(false);
                throw;
            }
            if (fill) fill->finish(offered == expected);
            strip_marker(r.info);
            return r;
        }
    } tee(*this, key, opts, sink);

    try {
        return tee.read(*inner_);
    } catch (const NeedsCheck&) {
    }
    ReadResult head = local_->head(key, ReadOptions{});
    if (head.found() && still_current(head)) {
        tee.checked = true;   // serve it; still_current dropped it otherwise
        return tee.read(*inner_);
    }
    return tee.read(*remote_);
}

}  // namespace cc
