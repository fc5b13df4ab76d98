// The merged listing: two sorted listings (local and remote) walked side by
// side, a name present in both shown once (from the preferred store), pages
// cut exactly at max_keys whichever store the names came from.
#pragma once
#include <string>
#include <vector>

#include "storage/object_store.h"

namespace cc {

// Walks one store's listing entry by entry, fetching pages on demand.
class ListCursor {
public:
    ListCursor(ObjectStore& store, const ListRequest& req, int page_size);
    const ListEntry* peek();   // nullptr at the end
    void pop();
    bool from_index() const { return from_index_; }
    bool degraded() const { return degraded_; }

private:
    void fetch();
    ObjectStore& store_;
    ListRequest req_;          // req_.marker advances page by page
    int page_size_;
    std::vector<ListEntry> buf_;
    std::size_t pos_ = 0;
    bool exhausted_ = false;
    bool from_index_ = false, degraded_ = false;
};

// True when `marker` names a CommonPrefix of (prefix, delimiter): everything
// under it has already been shown rolled up, so a listing resumes after all of it.
bool is_common_prefix(const std::string& marker, const std::string& prefix, const std::string& delimiter);

ListPage merge_listings(ObjectStore& preferred, ObjectStore& other, const ListRequest& req);

}  // namespace cc
