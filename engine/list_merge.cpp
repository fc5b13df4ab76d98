#include "engine/list_merge.h"

#include <algorithm>

namespace cc {
namespace {
// U+10FFFF, the largest code point: "p/" + this sorts after every valid
// UTF-8 key that starts with "p/".
constexpr const char* kAfterEverything = "\xF4\x8F\xBF\xBF";
}  // namespace

bool is_common_prefix(const std::string& marker, const std::string& prefix, const std::string& delimiter) {
    if (delimiter.empty() || marker.size() <= prefix.size() || marker.compare(0, prefix.size(), prefix) != 0)
        return false;
    auto pos = marker.find(delimiter, prefix.size());
    return pos != std::string::npos && pos + delimiter.size() == marker.size();
}

ListCursor::ListCursor(ObjectStore& store, const ListRequest& req, int page_size)
    : store_(store), req_(req), page_size_(page_size) {}

void ListCursor::fetch() {
    ListRequest r = req_;
    r.max_keys = page_size_;
    if (is_common_prefix(r.marker, r.prefix, r.delimiter)) r.marker += kAfterEverything;
    ListPage page = store_.list(r);
    from_index_ = from_index_ || page.from_index;
    degraded_ = degraded_ || page.degraded;
    buf_.clear();
    pos_ = 0;
    for (auto& e : page.entries)
        if (req_.marker.empty() || e.info.key > req_.marker) buf_.push_back(std::move(e));
    std::string next = page.next_marker;
    if (next.empty() && !page.entries.empty()) next = page.entries.back().info.key;
    if (!page.truncated || next.empty() || next <= req_.marker) {
        exhausted_ = true;   // also guards against a backend that stops advancing
    } else {
        req_.marker = next;
    }
}

const ListEntry* ListCursor::peek() {
    while (pos_ >= buf_.size()) {
        if (exhausted_) return nullptr;
        fetch();
    }
    return &buf_[pos_];
}

void ListCursor::pop() { ++pos_; }

ListPage merge_listings(ObjectStore& preferred, ObjectStore& other, const ListRequest& req) {
    ListPage out;
    if (req.max_keys <= 0) return out;
    const int page_size = std::min(1000, req.max_keys + 1);
    ListCursor a(preferred, req, page_size), b(other, req, page_size);
    while (static_cast<int>(out.entries.size()) < req.max_keys) {
        const ListEntry* x = a.peek();
        const ListEntry* y = b.peek();
        if (!x && !y) break;
        if (x && (!y || x->info.key <= y->info.key)) {
            if (y && y->info.key == x->info.key) b.pop();   // in both: the preferred copy wins
            out.entries.push_back(*x);
            a.pop();
        } else {
            out.entries.push_back(*y);
            b.pop();
        }
    }
    out.truncated = a.peek() || b.peek();
    if (out.truncated) out.next_marker = out.entries.back().info.key;
    out.from_index = a.from_index() && b.from_index();
    out.partly_from_index = a.from_index() != b.from_index();
    out.degraded = a.degraded() || b.degraded();
    return out;
}

}  // namespace cc
