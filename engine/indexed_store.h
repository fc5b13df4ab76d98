// The presence index as a layer over one side's store (local or remote) of one
// container. Writes through this instance update the index synchronously, so
// the next listing shows them; listings come from the index when it is fresh
// enough, from the live store otherwise, and from the index again when the
// live store fails (a degraded, marked answer instead of a 503).
#pragma once
#include <string>

#include "engine/presence_index.h"
#include "storage/forwarding_store.h"

namespace cc {

enum class ListingMode { Auto, Index, Live };

struct IndexPolicy {
    ListingMode mode = ListingMode::Auto;
    int max_staleness = 90;   // seconds since the last completed refresh pass
};

class IndexedStore : public ForwardingStore {
public:
    IndexedStore(StorePtr inner, PresenceIndex& index, IndexPolicy policy, Side side, std::string account,
                 std::string container);

    Stored put(const std::string& key, const WriteOptions& opts, BodySource& body) override;
    void remove(const std::string& key) override;
    std::optional<std::string> replace_metadata(const std::string& key, const WriteOptions& opts) override;
    std::string complete_upload(const std::string& key, const std::string& upload_id,
                                const std::vector<PartInfo>& parts) override;
    ListPage list(const ListRequest& req) override;

    // True when the last completed refresh pass of this side is recent enough.
    bool fresh() const;
    // True when the index is fresh and has no record of `key` on this side:
    // the store most likely does not have it (read_routing = index). A damaged
    // index answers false, so reads fall back to asking the store.
    bool known_absent(const std::string& key) const;

private:
    void learn(const std::string& key);   // records the store's current head of `key`
    PresenceIndex& index_;
    IndexPolicy policy_;
    Side side_;
    std::string account_, container_;
};

}  // namespace cc
