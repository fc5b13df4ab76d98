// The one object-store interface. Concrete stores (S3, Swift) implement it;
// the 1space layout, local-first/remote-fallback and (later) the index and
// caches are layers that wrap another ObjectStore and forward what they do
// not change. Bodies stream through BodySource/BodySink: nothing here ever
// holds a whole object in memory.
//
// Errors: "not there" and HTTP conditional outcomes are ordinary results;
// everything else (backend down, 5xx, timeouts, refused requests) is thrown
// as cc::S3Error carrying the status the client should get.
#pragma once
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/s3error.h"

namespace cc {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ObjectInfo {
    std::string key;
    std::uint64_t size = 0;
    std::string etag;                 // quoted, as S3 sends it
    std::time_t last_modified = 0;
    std::string content_type;
    HeaderList user_meta;             // name without "x-amz-meta-", lower-case; value as the client gave it
    HeaderList headers;               // Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires
};

struct ReadOptions {
    std::string range;                // raw Range header, empty = whole object
    std::string if_match, if_none_match, if_modified_since, if_unmodified_since;
};

struct ReadResult {
    enum class Status { Ok, Partial, NotFound, NotModified, PreconditionFailed, RangeNotSatisfiable };
    Status status = Status::NotFound;
    ObjectInfo info;                  // for Ok/Partial/NotModified (NotModified: etag, last_modified)
    std::uint64_t content_length = 0; // bytes that follow (Partial: the range length)
    std::string content_range;        // "bytes a-b/size" (Partial) or "bytes */size" (416)
    std::string answered_by;          // which store answered ("local", "remote"), for logs and metrics
    bool local_skipped = false;       // the remote answered without the local store being asked (read_routing = index)
    bool found() const { return status != Status::NotFound; }
};

// Receives a streamed body. begin() is called once, before any bytes, and
// only for Ok/Partial results; write() may throw to abort the transfer
// (e.g. the client went away).
class BodySink {
public:
    virtual ~BodySink() = default;
    virtual void begin(const ReadResult& head) = 0;
    virtual void write(const char* data, std::size_t len) = 0;
};

// Produces a streamed body of a known length. read() returns 0 only at the
// end; it throws S3Error when the body is bad (short, wrong digest), which
// aborts the upload before the backend has the last byte, so nothing is stored.
class BodySource {
public:
    virtual ~BodySource() = default;
    virtual std::size_t read(char* buf, std::size_t len) = 0;
    virtual std::uint64_t length() const = 0;
};

struct WriteOptions {
    std::string content_type;
    std::string content_md5;          // base64, passed to the backend as a second check
    HeaderList user_meta;             // as in ObjectInfo
    HeaderList headers;               // as in ObjectInfo
    // An identical copy exists on the remote store (cache fills, delivered
    // write-through/write-back copies): a store with a capacity limit may evict it.
    bool clean = false;
};

struct ListRequest {
    std::string prefix, delimiter, marker;
    int max_keys = 1000;
};

struct ListEntry {
    bool is_prefix = false;           // a CommonPrefix (only info.key is set)
    ObjectInfo info;
};

struct ListPage {
    std::vector<ListEntry> entries;   // sorted by key (UTF-8 byte order), prefixes interleaved
    bool truncated = false;
    // Where the next page starts: the last name this page covered, including
    // names a layer chose not to show. Empty when not truncated.
    std::string next_marker;
    // Where the page came from: the presence index instead of a live listing,
    // and (degraded) because the live store failed while the index was stale.
    bool from_index = false, degraded = false;
    bool partly_from_index = false;   // a merged page where only one side came from the index
};

// Multipart uploads (the store's own upload ids are handed to clients as is).
struct PartInfo {
    int number = 0;
    std::string etag;                 // quoted
    std::uint64_t size = 0;
    std::time_t last_modified = 0;
};

struct PartsPage {
    std::vector<PartInfo> parts;
    bool truncated = false;
    int next_marker = 0;
};

struct UploadInfo {
    std::string key, upload_id;
    std::time_t initiated = 0;
};

struct UploadsRequest {
    std::string prefix, delimiter, key_marker, upload_id_marker;
    int max_uploads = 1000;
};

struct UploadsPage {
    std::vector<UploadInfo> uploads;
    std::vector<std::string> common_prefixes;
    bool truncated = false;
    std::string next_key_marker, next_upload_id_marker;
};

// What a store says of an object it has just written.
struct Stored {
    std::string etag;                 // quoted
    std::time_t last_modified = 0;    // as the store will report it; 0 when its answer did not say
};

class ObjectStore {
public:
    virtual ~ObjectStore() = default;
    virtual ReadResult head(const std::string& key, const ReadOptions& opts) = 0;
    virtual ReadResult get(const std::string& key, const ReadOptions& opts, BodySink& sink) = 0;
    virtual Stored put(const std::string& key, const WriteOptions& opts, BodySource& body) = 0;
    // Idempotent: removing what is not there is not an error.
    virtual void remove(const std::string& key) = 0;
    // Replaces metadata and Content-Type in place (copy onto itself, REPLACE).
    // Returns the ETag, or nullopt if the object does not exist here.
    virtual std::optional<std::string> replace_metadata(const std::string& key, const WriteOptions& opts) = 0;
    virtual ListPage list(const ListRequest& req) = 0;
    // "local" or "remote": which side this store plays, for messages and logs.
    virtual std::string side() const = 0;
    // An identical copy of the version read as `as_read` (same ETag and
    // Last-Modified) now exists on the remote: a store with a capacity limit
    // may evict it from now on. A newer version is left alone. Returns whether
    // the copy was marked; stores without eviction keep the default (false).
    virtual bool mark_clean(const std::string& key, const ObjectInfo& as_read) {
        (void)key, (void)as_read;
        return false;
    }

    // Multipart uploads. Stores that cannot do them answer 501 NotImplemented.
    virtual std::string create_upload(const std::string& key, const WriteOptions& opts);
    // Returns the part's ETag (quoted).
    virtual std::string upload_part(const std::string& key, const std::string& upload_id, int part_number,
                                    BodySource& body, const std::string& content_md5);
    // Returns the object's ETag ("<md5 of part md5s>-<N>", quoted).
    virtual std::string complete_upload(const std::string& key, const std::string& upload_id,
                                        const std::vector<PartInfo>& parts);
    virtual void abort_upload(const std::string& key, const std::string& upload_id);
    virtual PartsPage list_parts(const std::string& key, const std::string& upload_id, int part_marker, int max_parts);
    virtual UploadsPage list_uploads(const UploadsRequest& req);
};

using StorePtr = std::shared_ptr<ObjectStore>;

}  // namespace cc
