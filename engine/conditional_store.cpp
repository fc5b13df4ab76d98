#include "engine/conditional_store.h"

namespace cc {

ReadResult ConditionalStore::head(const std::string& key, const ReadOptions& opts) {
    ReadOptions plain = opts;
    plain.if_match = plain.if_none_match = plain.if_modified_since = plain.if_unmodified_since = "";
    ReadResult r = inner_->head(key, plain);
    if (r.status == ReadResult::Status::Ok || r.status == ReadResult::Status::Partial) {
        ReadResult::Status verdict = evaluate_conditions(opts, r.info);
        if (verdict != ReadResult::Status::Ok) r.status = verdict;
    }
    return r;
}

ReadResult ConditionalStore::get(const std::string& key, const ReadOptions& opts, BodySink& sink) {
    if (!has_conditions(opts)) return inner_->get(key, opts, sink);
    ReadResult head = this->head(key, ReadOptions{});
    if (!head.found()) return head;
    ReadResult::Status verdict = evaluate_conditions(opts, head.info);
    if (verdict != ReadResult::Status::Ok) {
        head.status = verdict;
        return head;
    }
    // Read the very version the conditions were checked against; if it changed
    // in between, the store answers 412 rather than serving another version.
    ReadOptions pinned;
    pinned.range = opts.range;
    pinned.if_match = head.info.etag;
    return inner_->get(key, pinned, sink);
}

}  // namespace cc
