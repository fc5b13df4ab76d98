#include "engine/indexed_store.h"

#include "common/log.h"
#include "common/metrics.h"
#include "common/s3error.h"
#include "common/timefmt.h"

namespace cc {

IndexedStore::IndexedStore(StorePtr inner, PresenceIndex& index, IndexPolicy policy, Side side, std::string account,
                           std::string container)
    : ForwardingStore(std::move(inner)), index_(index), policy_(policy), side_(side), account_(std::move(account)),
      container_(std::move(container)) {}

bool IndexedStore::fresh() const {
    const SideState s = index_.state(account_, container_).of(side_);   // a copy: state() returns a temporary
    return s.last_complete > 0 && std::time(nullptr) - s.last_complete <= policy_.max_staleness;
}

bool IndexedStore::known_absent(const std::string& key) const {
    try {
        return fresh() && !index_.get(side_, account_, container_, key);
    } catch (const std::runtime_error& e) {
        log::error("presence index unusable for ", account_, "/", container_, ", reading local first: ", for_log(e));
        return false;
    }
}

void IndexedStore::learn(const std::string& key) {
    ReadResult r = inner_->head(key, ReadOptions{});
    if (r.status == ReadResult::Status::Ok) index_.put(side_, account_, container_, r.info);
    else if (r.status == ReadResult::Status::NotFound) index_.remove(side_, account_, container_, key);
}

Stored IndexedStore::put(const std::string& key, const WriteOptions& opts, BodySource& body) {
    Stored written = inner_->put(key, opts, body);
    ObjectInfo info;
    info.key = key;
    info.size = body.length();
    info.etag = written.etag;
    // What the store's HEAD and listings will say, so that the index's listing agrees
    // with them from the start; a store that did not say: now, rounded up to the
    // second as Swift rounds its own (a listing never shows a copy older than it is).
    info.last_modified = written.last_modified ? written.last_modified : seconds_rounded_up(std::chrono::system_clock::now());
    info.content_type = opts.content_type;
    index_.put(side_, account_, container_, info);
    return written;
}

void IndexedStore::remove(const std::string& key) {
    inner_->remove(key);
    index_.remove(side_, account_, container_, key);
}

std::optional<std::string> IndexedStore::replace_metadata(const std::string& key, const WriteOptions& opts) {
    auto etag = inner_->replace_metadata(key, opts);
    if (etag) learn(key);
    return etag;
}

std::string IndexedStore::complete_upload(const std::string& key, const std::string& upload_id,
                                          const std::vector<PartInfo>& parts) {
    std::string etag = inner_->complete_upload(key, upload_id, parts);
    learn(key);
    return etag;
}

ListPage IndexedStore::list(const ListRequest& req) {
    auto from_index = [&](bool degraded) {
        ListPage page = index_.list(side_, account_, container_, req);
        page.from_index = true;
        page.degraded = degraded;
        return page;
    };
    switch (policy_.mode) {
        case ListingMode::Index: return from_index(false);
        case ListingMode::Live: return inner_->list(req);
        case ListingMode::Auto: break;
    }
    try {
        if (fresh()) return from_index(false);
    } catch (const std::runtime_error& e) {
        // A damaged index never fails a listing: the live stores answer instead.
        log::error("presence index unusable for ", account_, "/", container_, ", listing live: ", for_log(e));
    }
    try {
        return inner_->list(req);
    } catch (const S3Error& e) {
        // The live store is failing: a listing from the last completed pass is
        // better than none, as long as there was one. It is marked and logged.
        if (e.status() < 500 || index_.state(account_, container_).of(side_).last_complete == 0) throw;
        log::warning("listing ", account_, "/", container_, " from the presence index: the ", side_name(side_),
                     " store failed: ", for_log(e));
        metrics::add("cc_index_degraded_listings_total", {{"side", side_name(side_)}});
        return from_index(true);
    }
}

}  // namespace cc
