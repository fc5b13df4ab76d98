// The presence index: which objects exist in the local and in the remote store
// of every mapped container, kept in RocksDB under state_dir. Listings become
// a local range scan (and survive the on-prem cluster being unreachable);
// cc-index reads the same keyspace.
//
// Keyspace (default column family, next to the state dir's own "meta:" keys):
//   o<side><account>\0<container>\0<key>  -> object record (size, etag, mtime, type, pass)
//   c<account>\0<container>               -> container record (per side: last completed
//                                            refresh, pass number, resume cursor, last error)
// <side> is 'L' or 'R'. Keys sort in UTF-8 byte order, as S3 listings do.
#pragma once
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/object_store.h"

namespace rocksdb { class DB; }

namespace cc {

enum class Side { Local, Remote };
const char* side_name(Side side);

struct SideState {
    std::time_t last_complete = 0;   // end of the last completed refresh pass (0 = never)
    std::uint64_t pass = 0;          // number of the pass in progress or last completed
    bool in_progress = false;
    std::string cursor;              // last key recorded by the pass in progress (resume point)
    std::string last_error;          // why the last pass failed, if it did
};

struct ContainerState {
    SideState side[2];
    const SideState& of(Side s) const { return side[static_cast<int>(s)]; }
    SideState& of(Side s) { return side[static_cast<int>(s)]; }
};

struct ContainerStats {
    std::string account, container;
    std::uint64_t objects[2] = {0, 0}, bytes[2] = {0, 0};
    ContainerState state;
};

class PresenceIndex {
public:
    explicit PresenceIndex(rocksdb::DB& db);

    // One object, as a write through this instance or a refresh saw it.
    void put(Side side, const std::string& account, const std::string& container, const ObjectInfo& info,
             std::uint64_t pass = 0);
    void remove(Side side, const std::string& account, const std::string& container, const std::string& key);
    std::optional<ObjectInfo> get(Side side, const std::string& account, const std::string& container,
                                  const std::string& key) const;

    // An S3-style listing page of one side (prefix, delimiter, marker, max_keys).
    ListPage list(Side side, const std::string& account, const std::string& container, const ListRequest& req) const;

    ContainerState state(const std::string& account, const std::string& container) const;
    void save_state(const std::string& account, const std::string& container, const ContainerState& state);

    // Refresh passes: records a page of entries seen by pass `pass` and moves
    // the resume cursor in the same atomic batch.
    void record_page(Side side, const std::string& account, const std::string& container,
                     const std::vector<ListEntry>& entries, std::uint64_t pass);
    // Removes the entries of `side` that pass `pass` did not see (older pass numbers).
    std::uint64_t drop_unseen(Side side, const std::string& account, const std::string& container, std::uint64_t pass);

    std::vector<std::pair<std::string, std::string>> containers() const;
    ContainerStats stats(const std::string& account, const std::string& container) const;

    // Drops everything recorded for one container (cc-index rebuild).
    void clear(const std::string& account, const std::string& container);

private:
    rocksdb::DB& db_;
};

}  // namespace cc
