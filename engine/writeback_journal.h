// The write-back journal: which local objects still have to be delivered to
// the on-prem store. One record per object (a newer local write replaces the
// pending record of an older one), in RocksDB under state_dir, so nothing
// acknowledged is lost across restarts and kill -9.
//   w<account>\0<container>\0<key>  -> etag, writer's access key, enqueued,
//                                      attempts, next attempt, last error
#pragma once
#include <ctime>
#include <mutex>
#include <string>
#include <vector>

namespace rocksdb { class DB; }

namespace cc {

struct PendingUpload {
    std::string account, container, key;
    std::string etag;            // the local version to deliver
    std::string access_key;      // whose rights deliver it
    std::time_t enqueued = 0, next_attempt = 0;
    std::uint32_t attempts = 0;
    std::string last_error;
};

class WritebackJournal {
public:
    explicit WritebackJournal(rocksdb::DB& db);
    void enqueue(const PendingUpload& upload);          // replaces a pending older version
    std::vector<PendingUpload> due(std::time_t now, std::size_t limit) const;
    std::vector<PendingUpload> all() const;
    // Removes the record if it still names `etag` (a newer write keeps its own).
    void done(const PendingUpload& upload);
    // Records a failed attempt; the next one waits longer (exponential, at most 5 minutes).
    void failed(const PendingUpload& upload, const std::string& error);

private:
    rocksdb::DB& db_;
    mutable std::mutex mutex_;   // read-modify-write of one record at a time
};

}  // namespace cc
