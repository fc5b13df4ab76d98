// The embedded local store: a mapping whose aws_endpoint is "file:///some/dir"
// keeps its local copies on a persistent volume instead of in a cloud bucket,
// with the full ObjectStore semantics (ranges, conditionals, copy, metadata
// update, multipart, listings).
//
// Layout of the directory (one process owns it; every mapping entry and every
// per-request FileStore over the same directory share one backend):
//   objects/<h0h1>/<h2h3>/<h>-<unique>   object data, h = sha256(bucket "\0" name);
//                                        a new file per version, so readers of an
//                                        old version keep reading it
//   uploads/<upload id>/<part>-<unique>  parts of multipart uploads in progress
//   tmp/                                 bodies being received (emptied at start)
//   meta/                                RocksDB: one record per object (data file,
//                                        size, ETag, mtime, type, metadata, clean
//                                        flag, last access), uploads and parts, usage
// An object's name never becomes a path: any UTF-8 key ("..", "/etc/passwd",
// "a/../../b") is just a name. Data is written atomically: temp file, fsync,
// rename, directory fsync, then the metadata record (synchronously).
//
// The mapping's aws_bucket is a namespace inside the directory: two entries
// with different buckets over one directory do not see each other's objects.
//
// Capacity: with max_bytes > 0, a write that would not fit first evicts the
// least recently used *clean* objects (WriteOptions::clean: an identical copy
// exists on the remote). A copy that exists only here is never evicted; when
// such copies fill the store, writes fail with 507 InsufficientStorage.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "storage/object_store.h"

namespace cc {

struct FileLocation {
    std::string dir;                 // absolute directory (created if missing)
    std::string bucket;              // namespace inside the store (the mapping's aws_bucket)
    std::uint64_t max_bytes = 0;     // capacity of the whole directory; 0 = unlimited
    std::string side = "local";
};

// "file:///dir" or "file://localhost/dir" (percent-decoded) -> "/dir"; nullopt
// when `url` is not a file URL. Throws std::invalid_argument for a file URL
// that names no absolute directory (another host, a relative path, bad %-escapes).
std::optional<std::string> file_store_dir(const std::string& url);

// For tools that inspect a store a running server owns (cc-index verify): from
// now on, this process opens store directories read-only (RocksDB's read-only
// mode takes no lock and sees what was written before the open); writes fail.
void open_file_stores_read_only();

class FileBackend;

class FileStore : public ObjectStore {
public:
    // Opens (or reuses) the directory's backend. Throws S3Error 503 naming the
    // directory when it cannot be opened (not writable, locked by another process, ...).
    explicit FileStore(FileLocation where);

    ReadResult head(const std::string& key, const ReadOptions& opts) override;
    ReadResult get(const std::string& key, const ReadOptions& opts, BodySink& sink) override;
    Stored put(const std::string& key, const WriteOptions& opts, BodySource& body) override;
    void remove(const std::string& key) override;
    // Content type, user metadata and headers are replaced (not merged), the
    // ETag stays; the clean flag becomes opts.clean (a metadata change made
    // here makes the copy differ from the remote one).
    std::optional<std::string> replace_metadata(const std::string& key, const WriteOptions& opts) override;
    ListPage list(const ListRequest& req) override;
    std::string side() const override { return where_.side; }
    bool mark_clean(const std::string& key, const ObjectInfo& as_read) override;

    std::string create_upload(const std::string& key, const WriteOptions& opts) override;
    std::string upload_part(const std::string& key, const std::string& upload_id, int part_number,
                            BodySource& body, const std::string& content_md5) override;
    std::string complete_upload(const std::string& key, const std::string& upload_id,
                                const std::vector<PartInfo>& parts) override;
    void abort_upload(const std::string& key, const std::string& upload_id) override;
    PartsPage list_parts(const std::string& key, const std::string& upload_id, int part_marker, int max_parts) override;
    UploadsPage list_uploads(const UploadsRequest& req) override;

    // Accounting of the whole directory (every namespace).
    struct Usage {
        std::uint64_t objects = 0, used_bytes = 0, dirty_bytes = 0, max_bytes = 0;
    };
    Usage usage() const;
    // The directory as opened (canonical path).
    const std::string& directory() const;

private:
    std::string name_of(const std::string& key) const;   // "<bucket>\0<key>"
    FileLocation where_;
    std::shared_ptr<FileBackend> backend_;
};

}  // namespace cc
