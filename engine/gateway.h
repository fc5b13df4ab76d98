// The engine's face to the frontend: who the users are, which store stack
// serves a bucket, and keeping both fresh. The user database and the mapping
// are one immutable snapshot, swapped atomically on reload, so a request in
// flight keeps the snapshot it started with.
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/config_source.h"
#include "engine/indexed_store.h"
#include "engine/presence_index.h"
#include "engine/writeback_journal.h"
#include "engine/mapping.h"
#include "engine/periodic_task.h"
#include "engine/settings.h"
#include "engine/users.h"
#include "storage/object_store.h"
#include "storage/s3_store.h"

namespace cc {

struct ConfigSnapshot {
    UserDb users;
    Mapping mapping;
    std::string users_version, mapping_version;
};

struct BucketRoute {
    std::shared_ptr<const ConfigSnapshot> snapshot;   // keeps `entry` alive
    const MappingEntry* entry = nullptr;
    std::string container;
    StorePtr store;                                   // the merged store stack for this bucket
};

class Gateway {
public:
    Gateway(Settings settings, std::unique_ptr<ConfigSource> source);
    ~Gateway();

    // Reads the user database and mapping; throws std::runtime_error naming
    // the file and the problem. Call once before serving.
    void load();
    // Re-checks both files; a broken new version is logged and ignored.
    // Returns true when a new snapshot was swapped in.
    bool reload();
    void start_reloading();   // every settings.reload_interval seconds
    void stop();

    std::shared_ptr<const ConfigSnapshot> snapshot() const;
    // With an index, each side of every bucket's stack gets an IndexedStore layer.
    void set_index(PresenceIndex* index, IndexPolicy policy) {
        index_ = index;
        index_policy_ = policy;
    }
    // With a journal, write-back mappings record their pending deliveries in it.
    void set_writeback(WritebackJournal* journal, std::function<void()> wake) {
        journal_ = journal;
        wake_writeback_ = std::move(wake);
    }
    // Called after every reload that swapped in a new snapshot.
    void on_reload(std::function<void()> callback) { on_reload_ = std::move(callback); }
    const Settings& settings() const { return settings_; }

    // The store stack that serves `bucket` for `user`; throws S3Error
    // NoSuchBucket when no mapping covers it (and contacts no store).
    BucketRoute open_bucket(const User& user, const std::string& bucket) const;
    // True for an exact mapping entry; for a "/*" entry, whether the on-prem container exists.
    bool bucket_exists(const User& user, const BucketRoute& route) const;
    // Containers the user reaches, sorted: exact mapping entries, and every on-prem
    // container of the account when a "/*" entry covers it. Creation dates are the
    // on-prem cluster's (0 for a container it does not have).
    std::vector<S3Store::Bucket> buckets_of(const User& user) const;

private:
    std::shared_ptr<const ConfigSnapshot> read(const ConfigSnapshot* previous);

    Settings settings_;
    std::unique_ptr<ConfigSource> source_;
    PresenceIndex* index_ = nullptr;
    IndexPolicy index_policy_;
    std::function<void()> on_reload_;
    WritebackJournal* journal_ = nullptr;
    std::function<void()> wake_writeback_;
    mutable std::mutex snapshot_mutex_;
    std::shared_ptr<const ConfigSnapshot> snapshot_;

    PeriodicTask reloader_;   // last: its rounds use the members above
};

// Builds the store stack for one mapping entry and container (exposed for tests and tools).
StorePtr make_local_store(const MappingEntry& entry, const std::string& container, const Settings& settings);
StorePtr make_remote_store(const User& user, const std::string& container, const Settings& settings);

}  // namespace cc
