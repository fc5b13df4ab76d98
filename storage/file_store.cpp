#include "storage/file_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <system_error>
#include <unordered_set>

#include "common/crypto.h"
#include "common/log.h"
#include "common/s3error.h"
#include "common/timefmt.h"
#include "common/uri.h"
#include "storage/byte_range.h"
#include "storage/conditions.h"
#include "storage/rocks_keyspace.h"

namespace cc {
namespace fs = std::filesystem;

namespace {

using keyspace::get_string;
using keyspace::get_varint;
using keyspace::put_string;
using keyspace::put_varint;

constexpr std::size_t kChunk = 256 * 1024;          // read/write/stream unit
constexpr std::uint64_t kMinPartSize = 5ull << 20;  // S3: every part but the last
constexpr std::size_t kUploadIdLen = 32;            // hex
constexpr char kRecordVersion = 1;
const std::string kFormatKey = "f";
const std::string kFormatVersion = "1";
const std::string kUsageKey = "s";

// --- keyspace of <dir>/meta ------------------------------------------------
//   f                                -> format version
//   s                                -> usage: objects, used bytes, dirty bytes
//   o<bucket>\0<name>                -> object record
//   l<be64 access time><bucket>\0<name> -> "" (clean objects, least recently used first)
//   m<bucket>\0<name>\0<upload id>   -> upload record
//   p<upload id><be32 part number>   -> part record

std::string be_bytes(std::uint64_t v, int n) {
    std::string out(n, '\0');
    for (int i = n - 1; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xFF);
    return out;
}

std::uint64_t from_be(std::string_view s) {
    std::uint64_t v = 0;
    for (unsigned char c : s) v = (v << 8) | c;
    return v;
}

std::string object_key(const std::string& name) { return "o" + name; }
std::string lru_key(std::uint64_t atime, const std::string& name) { return "l" + be_bytes(atime, 8) + name; }
std::string upload_key(const std::string& name, const std::string& id) { return "m" + name + '\0' + id; }
std::string part_prefix(const std::string& id) { return "p" + id; }
std::string part_key(const std::string& id, int number) { return part_prefix(id) + be_bytes(number, 4); }

void put_headers(std::string& out, const HeaderList& h) {
    put_varint(out, h.size());
    for (const auto& [k, v] : h) {
        put_string(out, k);
        put_string(out, v);
    }
}

bool get_headers(std::string_view& in, HeaderList& h) {
    std::uint64_t n;
    if (!get_varint(in, n) || n > in.size()) return false;
    for (std::uint64_t i = 0; i < n; ++i) {
        std::string k, v;
        if (!get_string(in, k) || !get_string(in, v)) return false;
        h.emplace_back(std::move(k), std::move(v));
    }
    return true;
}

struct Record {
    std::string file;              // data file, relative to <dir>/objects
    std::uint64_t size = 0;
    std::string etag;              // quoted
    std::int64_t mtime = 0;
    std::string content_type;
    HeaderList user_meta, headers;
    bool clean = false;
    std::uint64_t atime = 0;       // last access, microseconds (clean objects: key of the LRU entry)
};

std::string encode(const Record& r) {
    std::string v(1, kRecordVersion);
    put_string(v, r.file);
    put_varint(v, r.size);
    put_string(v, r.etag);
    put_varint(v, static_cast<std::uint64_t>(r.mtime));
    put_string(v, r.content_type);
    put_headers(v, r.user_meta);
    put_headers(v, r.headers);
    put_varint(v, r.clean ? 1 : 0);
    put_varint(v, r.atime);
    return v;
}

bool decode(std::string_view v, Record& r) {
    if (v.empty() || v.front() != kRecordVersion) return false;
    v.remove_prefix(1);
    std::uint64_t mtime, clean;
    if (!get_string(v, r.file) || !get_varint(v, r.size) || !get_string(v, r.etag) || !get_varint(v, mtime) ||
        !get_string(v, r.content_type) || !get_headers(v, r.user_meta) || !get_headers(v, r.headers) ||
        !get_varint(v, clean) || !get_varint(v, r.atime))
        return false;
    r.mtime = static_cast<std::int64_t>(mtime);
    r.clean = clean != 0;
    return true;
}

struct UploadRecord {
    std::string content_type;
    HeaderList user_meta, headers;
    bool clean = false;
    std::int64_t initiated = 0;
};

std::string encode(const UploadRecord& u) {
    std::string v(1, kRecordVersion);
    put_string(v, u.content_type);
    put_headers(v, u.user_meta);
    put_headers(v, u.headers);
    put_varint(v, u.clean ? 1 : 0);
    put_varint(v, static_cast<std::uint64_t>(u.initiated));
    return v;
}

bool decode(std::string_view v, UploadRecord& u) {
    if (v.empty() || v.front() != kRecordVersion) return false;
    v.remove_prefix(1);
    std::uint64_t clean, initiated;
    if (!get_string(v, u.content_type) || !get_headers(v, u.user_meta) || !get_headers(v, u.headers) ||
        !get_varint(v, clean) || !get_varint(v, initiated))
        return false;
    u.clean = clean != 0;
    u.initiated = static_cast<std::int64_t>(initiated);
    return true;
}

struct PartRecord {
    std::string file;              // relative to <dir>/uploads/<id>
    std::uint64_t size = 0;
    std::string md5;               // 16 raw bytes
    std::int64_t mtime = 0;
    std::string etag() const { return "\"" + to_hex(md5) + "\""; }
};

std::string encode(const PartRecord& p) {
    std::string v(1, kRecordVersion);
    put_string(v, p.file);
    put_varint(v, p.size);
    put_string(v, p.md5);
    put_varint(v, static_cast<std::uint64_t>(p.mtime));
    return v;
}

bool decode(std::string_view v, PartRecord& p) {
    if (v.empty() || v.front() != kRecordVersion) return false;
    v.remove_prefix(1);
    std::uint64_t mtime;
    if (!get_string(v, p.file) || !get_varint(v, p.size) || !get_string(v, p.md5) || !get_varint(v, mtime))
        return false;
    p.mtime = static_cast<std::int64_t>(mtime);
    return true;
}

struct Usage {
    std::uint64_t objects = 0, used = 0, dirty = 0;
};

std::string encode(const Usage& u) {
    std::string v(1, kRecordVersion);
    put_varint(v, u.objects);
    put_varint(v, u.used);
    put_varint(v, u.dirty);
    return v;
}

// --- small helpers ----------------------------------------------------------

std::string random_hex(std::size_t bytes) {
    thread_local std::mt19937_64 rng(std::random_device{}());
    std::string raw;
    while (raw.size() < bytes) {
        std::uint64_t v = rng();
        raw.append(reinterpret_cast<const char*>(&v), std::min<std::size_t>(8, bytes - raw.size()));
    }
    return to_hex(raw);
}

std::int64_t modification_time() { return seconds_rounded_up(std::chrono::system_clock::now()); }

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

std::string strong(std::string_view etag) {
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
    std::string out(etag);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool valid_upload_id(const std::string& id) {
    return id.size() == kUploadIdLen && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

S3Error no_such_upload(const std::string& id) {
    S3Error e(404, "NoSuchUpload",
              "The specified upload does not exist. The upload ID may be invalid, or the upload may have been "
              "aborted or completed.");
    e.detail_name = "UploadId";
    e.detail_value = id;
    return e;
}

// A file descriptor that closes itself.
struct Fd {
    int fd = -1;
    explicit Fd(int f = -1) : fd(f) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

// ---------------------------------------------------------------------------
// One directory's backend, shared by every FileStore over it.

class FileBackend {
public:
    explicit FileBackend(std::string dir);

    const std::string dir;
    std::atomic<std::uint64_t> max_bytes{0};

    // Where the store is: for the log only, never for clients (common/s3error.h).
    std::string where() const { return "file://" + dir; }
    std::string who() const { return "local store (" + where() + ")"; }   // for the log
    // An outage as the client hears of it: the side; where it is and the object's
    // name in the store go to the log. `what` follows "local store".
    S3Error outage(const std::string& what, const std::string& object = {}) const {
        return unavailable("local store" + what, where() + (object.empty() ? "" : ", object '" + object + "'"));
    }
    std::string object_path(const std::string& rel) const { return dir + "/objects/" + rel; }
    std::string upload_dir(const std::string& id) const { return dir + "/uploads/" + id; }

    // `path`: the file (or the object's name) involved, for the log only.
    [[noreturn]] void io_fail(const std::string& what, int err, const std::string& path = {}) const {
        const bool full = err == ENOSPC || err == EDQUOT;
        S3Error e = full ? S3Error(507, "InsufficientStorage", "local store cannot " + what + ": " + errno_text(err))
                         : unavailable("local store failed to " + what + ": " + errno_text(err));
        e.operator_detail = where() + (path.empty() ? "" : ": " + path);
        throw e;
    }
    void check(const rocksdb::Status& s, const std::string& what) const {
        if (!s.ok())   // RocksDB's words name files: the log's
            throw unavailable("local store: the metadata database failed to " + what, where() + ": " + s.ToString());
    }

    std::optional<Record> lookup(const std::string& name) const;
    std::optional<UploadRecord> lookup_upload(const std::string& name, const std::string& id) const;
    std::optional<PartRecord> lookup_part(const std::string& id, int number) const;
    rocksdb::DB& db() const { return *db_; }

    // Capacity: room for `bytes` more, evicting clean objects if needed (507 if impossible).
    class Reservation;
    Reservation reserve(const std::string& name, std::uint64_t bytes);
    // The early check of an upload part: could an object of this size ever fit?
    void check_room(const std::string& name, std::uint64_t bytes);

    // Records `rec` as the current version of `name` (sync); `also` adds to the
    // same batch under the lock (and may throw to refuse). Unlinks the old version.
    void commit(const std::string& name, Record& rec, Reservation& res,
                const std::function<void(rocksdb::WriteBatch&)>& also = {});
    void remove(const std::string& name);
    std::optional<std::string> replace_metadata(const std::string& name, const WriteOptions& opts);
    bool mark_clean(const std::string& name, const ObjectInfo& as_read);
    void touch(const std::string& name, const std::string& file);
    void delete_upload(const std::string& name, const std::string& id, rocksdb::WriteBatch& batch) const;
    void commit_part(const std::string& name, const std::string& id, int number, const PartRecord& part);
    void abort(const std::string& name, const std::string& id);
    FileStore::Usage usage() const {
        std::lock_guard lock(mu_);
        return {usage_.objects, usage_.used, usage_.dirty, max_bytes.load()};
    }

    void write_sync(rocksdb::WriteBatch& batch, const std::string& what) {
        rocksdb::WriteOptions wo;
        wo.sync = true;
        check(db_->Write(wo, &batch), what);
    }
    void unlink_quietly(const std::string& path) const {
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            log::warning(who(), ": cannot remove ", path, ": ", errno_text(errno), " (removed at the next start)");
    }
    void sync_dir(const std::string& path) const {
        Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (fd.fd < 0 || ::fsync(fd.fd) != 0) io_fail("sync a directory", errno, path);
    }

private:
    std::uint64_t next_access();
    [[noreturn]] void full(std::uint64_t bytes, std::uint64_t max) const;
    void recover();

    std::unique_ptr<rocksdb::DB> db_;
    mutable std::mutex mu_;          // every metadata change (reads of the DB need none)
    Usage usage_;
    std::uint64_t reserved_ = 0;     // bytes of writes in progress
    std::atomic<std::uint64_t> last_access_{0};
};

class FileBackend::Reservation {
public:
    Reservation(FileBackend* b, std::uint64_t bytes) : b_(b), bytes_(bytes) {}
    Reservation(Reservation&& o) noexcept : b_(o.b_), bytes_(o.bytes_) { o.b_ = nullptr; }
    Reservation(const Reservation&) = delete;
    ~Reservation() {
        if (!b_) return;
        std::lock_guard lock(b_->mu_);
        b_->reserved_ -= bytes_;
    }
    void release_locked() {   // with b_->mu_ held
        if (b_) b_->reserved_ -= bytes_;
        b_ = nullptr;
    }
private:
    FileBackend* b_;
    std::uint64_t bytes_;
};

namespace {

// A body being received under <dir>/tmp; removed unless moved into place.
class TempFile {
public:
    explicit TempFile(const FileBackend& b) : b_(b), path_(b.dir + "/tmp/" + random_hex(16) + ".tmp") {
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        if (fd_ < 0) b_.io_fail("create a temporary file", errno);
    }
    TempFile(const TempFile&) = delete;
    ~TempFile() {
        if (fd_ >= 0) ::close(fd_);
        if (!path_.empty()) ::unlink(path_.c_str());
    }
    void write(const char* data, std::size_t len) {
        while (len > 0) {
            ssize_t n = ::write(fd_, data, len);
            if (n < 0) {
                if (errno == EINTR) continue;
                b_.io_fail("write", errno);
            }
            data += n;
            len -= static_cast<std::size_t>(n);
        }
    }
    // Makes the bytes durable (fsync) and closes the file.
    void finish() {
        if (::fsync(fd_) != 0) b_.io_fail("sync a temporary file", errno);
        const int fd = fd_;
        fd_ = -1;
        if (::close(fd) != 0) b_.io_fail("close a temporary file", errno);
    }
    // Renames the finished file to `dest` and makes the rename durable.
    void move_to(const std::string& dest) {
        if (::rename(path_.c_str(), dest.c_str()) != 0) b_.io_fail("move a finished file into place", errno);
        path_.clear();
        b_.sync_dir(fs::path(dest).parent_path().string());
    }
private:
    const FileBackend& b_;
    std::string path_;
    int fd_ = -1;
};

// A data file moved into place but not yet recorded: removed unless kept.
struct Placed {
    const FileBackend& b;
    std::string path;
    bool kept = false;
    ~Placed() {
        if (!kept && !path.empty()) b.unlink_quietly(path);
    }
};

// Copies `body` into `tmp`, hashing it; returns the number of bytes.
std::uint64_t receive(BodySource& body, TempFile& tmp, Digest& md5) {
    std::vector<char> buf(kChunk);
    std::uint64_t total = 0;
    for (;;) {
        const std::size_t n = body.read(buf.data(), buf.size());
        if (n == 0) break;
        md5.update(buf.data(), n);
        tmp.write(buf.data(), n);
        total += n;
    }
    return total;
}

// Where a new version of `name` goes: objects/<h0h1>/<h2h3>/<h>-<unique>, the
// directories created (and their creation made durable) as needed.
std::string new_object_file(const FileBackend& b, const std::string& name) {
    const std::string h = sha256_hex(name);
    const std::string level1 = h.substr(0, 2), level2 = h.substr(2, 2);
    const fs::path parent = fs::path(b.dir) / "objects" / level1 / level2;
    std::error_code ec;
    if (fs::create_directories(parent, ec)) {
        b.sync_dir((fs::path(b.dir) / "objects" / level1).string());
        b.sync_dir((fs::path(b.dir) / "objects").string());
    } else if (ec) {
        b.io_fail("create a directory", ec.value(), parent.string());
    }
    return level1 + "/" + level2 + "/" + h + "-" + random_hex(8);
}

ObjectInfo info_of(const std::string& key, const Record& r) {
    ObjectInfo info;
    info.key = key;
    info.size = r.size;
    info.etag = r.etag;
    info.last_modified = static_cast<std::time_t>(r.mtime);
    info.content_type = r.content_type;
    info.user_meta = r.user_meta;
    info.headers = r.headers;
    return info;
}

// The answer to a read of `rec`: conditions first (412/304 beat 416), then the range.
ReadResult answer(const std::string& key, const Record& rec, const ReadOptions& opts, const std::string& side,
                  ByteRange& range) {
    ReadResult r;
    r.answered_by = side;
    r.info = info_of(key, rec);
    if (has_conditions(opts)) {
        const ReadResult::Status verdict = evaluate_conditions(opts, r.info);
        if (verdict != ReadResult::Status::Ok) {
            r.status = verdict;
            return r;
        }
    }
    range = resolve_range(opts.range, rec.size);
    switch (range.kind) {
        case ByteRange::Kind::Whole:
            r.status = ReadResult::Status::Ok;
            r.content_length = rec.size;
            break;
        case ByteRange::Kind::Partial:
            r.status = ReadResult::Status::Partial;
            r.content_length = range.length();
            r.content_range = range.content_range(rec.size);
            break;
        case ByteRange::Kind::Unsatisfiable:
            r.status = ReadResult::Status::RangeNotSatisfiable;
            r.content_range = range.content_range(rec.size);
            break;
    }
    return r;
}

}  // namespace

// --- the backend ------------------------------------------------------------

namespace {
std::atomic<bool> g_read_only{false};
}  // namespace

void open_file_stores_read_only() { g_read_only = true; }

FileBackend::FileBackend(std::string d) : dir(std::move(d)) {
    if (g_read_only) {
        rocksdb::Options options;
        options.paranoid_checks = true;
        rocksdb::DB* raw = nullptr;
        const rocksdb::Status s = rocksdb::DB::OpenForReadOnly(options, dir + "/meta", &raw);
        if (!s.ok()) throw std::runtime_error("cannot open the metadata database " + dir + "/meta read-only: " + s.ToString());
        db_.reset(raw);
        return;   // nothing to recover or create: the owner does that
    }
    for (const char* sub : {"objects", "tmp", "uploads", "meta"}) {
        std::error_code ec;
        fs::create_directories(fs::path(dir) / sub, ec);
        if (ec) throw std::runtime_error("cannot create " + (fs::path(dir) / sub).string() + ": " + ec.message());
    }
    rocksdb::Options options;
    options.create_if_missing = true;
    options.paranoid_checks = true;
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status s = rocksdb::DB::Open(options, dir + "/meta", &raw);
    if (!s.ok()) {
        // One process owns a store directory: say so rather than leave "lock file" to decode.
        const bool locked = s.IsIOError() && s.ToString().find("lock") != std::string::npos;
        throw std::runtime_error("cannot open the metadata database " + dir + "/meta: " + s.ToString() +
                                 (locked ? " (another process, e.g. a running cloud-connector, owns this store)" : ""));
    }
    db_.reset(raw);
    std::string format;
    const rocksdb::Status f = db_->Get(rocksdb::ReadOptions(), kFormatKey, &format);
    if (f.IsNotFound()) {
        rocksdb::WriteOptions wo;
        wo.sync = true;
        check(db_->Put(wo, kFormatKey, kFormatVersion), "write its format");
    } else if (!f.ok()) {
        throw std::runtime_error("cannot read the metadata database " + dir + "/meta: " + f.ToString());
    } else if (format != kFormatVersion) {
        throw std::runtime_error("the metadata database " + dir + "/meta has format " + format + ", not " +
                                 kFormatVersion + " (written by another version?)");
    }
    recover();
}

// After a crash: leftovers of unfinished writes are removed (temp files, data
// files that were never recorded or whose record was replaced, uploads that no
// longer exist), records whose data file is gone are dropped, usage recounted.
void FileBackend::recover() {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(fs::path(dir) / "tmp", ec)) fs::remove_all(e.path(), ec);

    rocksdb::WriteBatch batch;
    std::unordered_set<std::string> referenced;
    Usage u;
    std::uint64_t dropped = 0, last = 0;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek("o"); it->Valid() && it->key().starts_with("o"); it->Next()) {
        Record r;
        const std::string name = it->key().ToString().substr(1);
        if (!decode(it->value().ToStringView(), r)) {
            log::error(who(), ": unreadable metadata record for '", name, "' (kept, not served)");
            continue;
        }
        struct stat st;
        if (::stat(object_path(r.file).c_str(), &st) != 0) {
            log::error(who(), ": the data file of '", name, "' is missing: dropping its record");
            batch.Delete(it->key());
            if (r.clean) batch.Delete(lru_key(r.atime, name));
            ++dropped;
            continue;
        }
        referenced.insert(r.file);
        ++u.objects;
        u.used += r.size;
        if (!r.clean) u.dirty += r.size;
        last = std::max(last, r.atime);
    }
    check(it->status(), "scan its records");
    // LRU entries whose object is gone or was replaced.
    for (it->Seek("l"); it->Valid() && it->key().starts_with("l"); it->Next()) {
        const std::string key = it->key().ToString();
        Record r;
        std::string value;
        const std::string name = key.size() >= 9 ? key.substr(9) : std::string();
        const bool live = key.size() >= 9 && db_->Get(rocksdb::ReadOptions(), object_key(name), &value).ok() &&
                          decode(value, r) && r.clean && r.atime == from_be(std::string_view(key).substr(1, 8));
        if (!live) batch.Delete(key);
    }
    check(it->status(), "scan its access list");

    std::size_t orphans = 0;
    const fs::path objects = fs::path(dir) / "objects";
    for (auto i = fs::recursive_directory_iterator(objects, ec); !ec && i != fs::recursive_directory_iterator();
         i.increment(ec)) {
        if (!i->is_regular_file(ec)) continue;
        const std::string rel = fs::relative(i->path(), objects, ec).string();
        if (!referenced.count(rel)) {
            fs::remove(i->path(), ec);
            ++orphans;
        }
    }

    // Uploads: records, their parts, their directories.
    std::set<std::string> uploads;
    for (it->Seek("m"); it->Valid() && it->key().starts_with("m"); it->Next()) {
        const rocksdb::Slice k = it->key();
        if (k.size() > kUploadIdLen) uploads.insert(std::string(k.data() + k.size() - kUploadIdLen, kUploadIdLen));
    }
    std::set<std::string> parts;   // "<id>/<file>"
    for (it->Seek("p"); it->Valid() && it->key().starts_with("p"); it->Next()) {
        const std::string key = it->key().ToString();
        const std::string id = key.substr(1, kUploadIdLen);
        PartRecord p;
        if (!uploads.count(id) || !decode(it->value().ToStringView(), p)) batch.Delete(key);
        else parts.insert(id + "/" + p.file);
    }
    check(it->status(), "scan its uploads");
    for (const auto& e : fs::directory_iterator(fs::path(dir) / "uploads", ec)) {
        const std::string id = e.path().filename().string();
        if (!uploads.count(id)) {
            fs::remove_all(e.path(), ec);
            continue;
        }
        for (const auto& f : fs::directory_iterator(e.path(), ec))
            if (!parts.count(id + "/" + f.path().filename().string())) fs::remove(f.path(), ec);
    }
    for (const auto& id : uploads) fs::create_directories(fs::path(upload_dir(id)), ec);

    batch.Put(kUsageKey, encode(u));
    write_sync(batch, "record its recovery");
    usage_ = u;
    last_access_ = last;
    if (dropped || orphans)
        log::warning(who(), ": recovered: ", dropped, " records without data dropped, ", orphans,
                     " unrecorded data files removed");
    log::info(who(), ": ", u.objects, " objects, ", u.used, " bytes (", u.dirty, " only here)");
}

std::uint64_t FileBackend::next_access() {
    const auto now = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    std::uint64_t prev = last_access_.load();
    for (;;) {
        const std::uint64_t next = std::max(now, prev + 1);
        if (last_access_.compare_exchange_weak(prev, next)) return next;
    }
}

std::optional<Record> FileBackend::lookup(const std::string& name) const {
    std::string value;
    const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), object_key(name), &value);
    if (s.IsNotFound()) return std::nullopt;
    check(s, "read a record");
    Record r;
    if (!decode(value, r)) throw outage(": corrupt metadata record of the object", name.substr(name.find('\0') + 1));
    return r;
}

std::optional<UploadRecord> FileBackend::lookup_upload(const std::string& name, const std::string& id) const {
    if (!valid_upload_id(id)) return std::nullopt;
    std::string value;
    const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), upload_key(name, id), &value);
    if (s.IsNotFound()) return std::nullopt;
    check(s, "read an upload record");
    UploadRecord u;
    if (!decode(value, u)) throw outage(": corrupt record of upload " + id);
    return u;
}

std::optional<PartRecord> FileBackend::lookup_part(const std::string& id, int number) const {
    std::string value;
    const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), part_key(id, number), &value);
    if (s.IsNotFound()) return std::nullopt;
    check(s, "read a part record");
    PartRecord p;
    if (!decode(value, p)) throw outage(": corrupt record of part " + std::to_string(number) + " of upload " + id);
    return p;
}

void FileBackend::full(std::uint64_t bytes, std::uint64_t max) const {
    S3Error e = bytes > max
        ? S3Error(507, "InsufficientStorage",
                  "the embedded file store cannot hold an object of " + std::to_string(bytes) +
                      " bytes: its capacity (file_store_max_bytes) is " + std::to_string(max) + " bytes")
        : S3Error(507, "InsufficientStorage",
                  "the embedded file store is full: " + std::to_string(usage_.dirty) + " of " + std::to_string(max) +
                      " bytes hold copies that exist only here and are never evicted (" + std::to_string(bytes) +
                      " more bytes were needed)");
    e.operator_detail = where();
    throw e;
}

void FileBackend::check_room(const std::string& name, std::uint64_t bytes) {
    const std::uint64_t max = max_bytes.load();
    if (!max) return;
    const auto old = lookup(name);
    const std::uint64_t freeable = old && !old->clean ? old->size : 0;
    std::lock_guard lock(mu_);
    if (bytes > max || usage_.dirty + bytes > max + freeable) full(bytes, max);
}

FileBackend::Reservation FileBackend::reserve(const std::string& name, std::uint64_t bytes) {
    std::vector<std::pair<std::string, Record>> victims;
    {
        std::lock_guard lock(mu_);
        const std::uint64_t max = max_bytes.load();
        if (max) {
            if (bytes > max) full(bytes, max);
            // The version this write replaces is freed by it.
            const auto old = lookup(name);
            const std::uint64_t freeable = old ? old->size : 0;
            std::uint64_t released = 0;
            auto fits = [&] { return usage_.used + reserved_ + bytes <= max + freeable + released; };
            if (!fits()) {
                // Least recently used clean objects first (stale entries are skipped).
                std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
                for (it->Seek("l"); it->Valid() && it->key().starts_with("l") && !fits(); it->Next()) {
                    const std::string key = it->key().ToString();
                    if (key.size() < 9) continue;
                    const std::string victim = key.substr(9);
                    if (victim == name) continue;   // replaced by this write anyway
                    const auto r = lookup(victim);
                    if (!r || !r->clean || r->atime != from_be(std::string_view(key).substr(1, 8))) continue;
                    released += r->size;
                    victims.emplace_back(victim, *r);
                }
                check(it->status(), "scan its access list");
                if (!fits()) full(bytes, max);   // nothing evicted: it would not help
                rocksdb::WriteBatch batch;
                Usage u = usage_;
                for (const auto& [victim, r] : victims) {
                    batch.Delete(object_key(victim));
                    batch.Delete(lru_key(r.atime, victim));
                    --u.objects;
                    u.used -= r.size;
                }
                batch.Put(kUsageKey, encode(u));
                write_sync(batch, "evict clean objects");
                usage_ = u;
                log::info(who(), ": evicted ", victims.size(), " clean objects (", released,
                          " bytes, least recently used first) to make room for ", bytes, " bytes");
            }
        }
        reserved_ += bytes;
    }
    for (const auto& [victim, r] : victims) unlink_quietly(object_path(r.file));
    return Reservation(this, bytes);
}

void FileBackend::commit(const std::string& name, Record& rec, Reservation& res,
                         const std::function<void(rocksdb::WriteBatch&)>& also) {
    std::string old_file;
    {
        std::lock_guard lock(mu_);
        rocksdb::WriteBatch batch;
        if (also) also(batch);
        const auto old = lookup(name);
        rec.atime = next_access();
        batch.Put(object_key(name), encode(rec));
        if (old && old->clean) batch.Delete(lru_key(old->atime, name));
        if (rec.clean) batch.Put(lru_key(rec.atime, name), "");
        Usage u = usage_;
        if (old) {
            --u.objects;
            u.used -= old->size;
            if (!old->clean) u.dirty -= old->size;
        }
        ++u.objects;
        u.used += rec.size;
        if (!rec.clean) u.dirty += rec.size;
        batch.Put(kUsageKey, encode(u));
        write_sync(batch, "record '" + name.substr(name.find('\0') + 1) + "'");
        usage_ = u;
        res.release_locked();
        if (old) old_file = old->file;
    }
    if (!old_file.empty() && old_file != rec.file) unlink_quietly(object_path(old_file));
}

void FileBackend::remove(const std::string& name) {
    std::string file;
    {
        std::lock_guard lock(mu_);
        const auto old = lookup(name);
        if (!old) return;
        rocksdb::WriteBatch batch;
        batch.Delete(object_key(name));
        if (old->clean) batch.Delete(lru_key(old->atime, name));
        Usage u = usage_;
        --u.objects;
        u.used -= old->size;
        if (!old->clean) u.dirty -= old->size;
        batch.Put(kUsageKey, encode(u));
        write_sync(batch, "delete '" + name.substr(name.find('\0') + 1) + "'");
        usage_ = u;
        file = old->file;
    }
    unlink_quietly(object_path(file));
}

std::optional<std::string> FileBackend::replace_metadata(const std::string& name, const WriteOptions& opts) {
    std::lock_guard lock(mu_);
    const auto old = lookup(name);
    if (!old) return std::nullopt;
    Record r = *old;
    r.content_type = opts.content_type;
    r.user_meta = opts.user_meta;
    r.headers = opts.headers;
    r.mtime = modification_time();
    r.clean = opts.clean;
    rocksdb::WriteBatch batch;
    if (old->clean) batch.Delete(lru_key(old->atime, name));
    if (r.clean) {
        r.atime = next_access();
        batch.Put(lru_key(r.atime, name), "");
    }
    batch.Put(object_key(name), encode(r));
    Usage u = usage_;
    if (old->clean && !r.clean) u.dirty += r.size;
    if (!old->clean && r.clean) u.dirty -= r.size;
    batch.Put(kUsageKey, encode(u));
    write_sync(batch, "update the metadata of '" + name.substr(name.find('\0') + 1) + "'");
    usage_ = u;
    return r.etag;
}

bool FileBackend::mark_clean(const std::string& name, const ObjectInfo& as_read) {
    std::lock_guard lock(mu_);
    auto r = lookup(name);
    // Only the version that was delivered: a newer write is not on the remote yet.
    if (!r || r->clean || r->etag != as_read.etag || r->mtime != static_cast<std::int64_t>(as_read.last_modified))
        return false;
    r->clean = true;
    r->atime = next_access();
    rocksdb::WriteBatch batch;
    batch.Put(lru_key(r->atime, name), "");
    batch.Put(object_key(name), encode(*r));
    Usage u = usage_;
    u.dirty -= r->size;
    batch.Put(kUsageKey, encode(u));
    write_sync(batch, "mark '" + name.substr(name.find('\0') + 1) + "' as also on the remote");
    usage_ = u;
    return true;
}

// A read of a clean object moves it to the recent end of the LRU order. Not
// synced: losing the newest access times in a crash only makes eviction less exact.
void FileBackend::touch(const std::string& name, const std::string& file) {
    std::lock_guard lock(mu_);
    auto r = lookup(name);
    if (!r || !r->clean || r->file != file) return;
    rocksdb::WriteBatch batch;
    batch.Delete(lru_key(r->atime, name));
    r->atime = next_access();
    batch.Put(lru_key(r->atime, name), "");
    batch.Put(object_key(name), encode(*r));
    check(db_->Write(rocksdb::WriteOptions(), &batch), "record an access");
}

void FileBackend::delete_upload(const std::string& name, const std::string& id, rocksdb::WriteBatch& batch) const {
    batch.Delete(upload_key(name, id));
    const std::string prefix = part_prefix(id);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) batch.Delete(it->key());
    check(it->status(), "scan the parts of upload " + id);
}

void FileBackend::commit_part(const std::string& name, const std::string& id, int number, const PartRecord& part) {
    std::string old_file;
    {
        std::lock_guard lock(mu_);
        if (!lookup_upload(name, id)) throw no_such_upload(id);   // aborted or completed meanwhile
        const auto old = lookup_part(id, number);
        rocksdb::WriteBatch batch;
        batch.Put(part_key(id, number), encode(part));
        write_sync(batch, "record part " + std::to_string(number) + " of upload " + id);
        if (old) old_file = old->file;
    }
    if (!old_file.empty()) unlink_quietly(upload_dir(id) + "/" + old_file);
}

void FileBackend::abort(const std::string& name, const std::string& id) {
    {
        std::lock_guard lock(mu_);
        if (!lookup_upload(name, id)) throw no_such_upload(id);
        rocksdb::WriteBatch batch;
        delete_upload(name, id, batch);
        write_sync(batch, "abort upload " + id);
    }
    std::error_code ec;
    fs::remove_all(upload_dir(id), ec);
}

// --- the registry: one backend per directory, for the life of the process ---

namespace {

// Never destroyed: the databases are closed by an exit handler registered
// after the first one was opened, so it runs before the destructors of the
// statics RocksDB builds while opening one (C++ runs exit handlers and static
// destructors in the reverse order of their registration).
std::mutex& registry_mutex() {
    static auto* mu = new std::mutex;
    return *mu;
}
std::map<std::string, std::shared_ptr<FileBackend>>& registry() {   // as configured and canonical
    static auto* by_path = new std::map<std::string, std::shared_ptr<FileBackend>>;
    return *by_path;
}

void close_all_backends() {
    std::map<std::string, std::shared_ptr<FileBackend>> open;
    {
        std::lock_guard lock(registry_mutex());
        open.swap(registry());
    }
    open.clear();   // closes every database no request still holds
}

std::shared_ptr<FileBackend> backend_for(const std::string& dir) {
    std::lock_guard lock(registry_mutex());
    auto& by_path = registry();
    if (auto it = by_path.find(dir); it != by_path.end()) return it->second;
    std::error_code ec;
    if (!g_read_only) fs::create_directories(dir, ec);
    if (ec) throw std::runtime_error("cannot create " + dir + ": " + ec.message());
    const std::string canonical = fs::canonical(dir, ec).string();
    if (ec) throw std::runtime_error(dir + ": " + ec.message());
    std::shared_ptr<FileBackend> b;
    if (auto it = by_path.find(canonical); it != by_path.end()) b = it->second;
    else b = std::make_shared<FileBackend>(canonical);
    static const bool registered = (std::atexit(close_all_backends), true);
    (void)registered;
    by_path[canonical] = b;
    by_path[dir] = b;
    return b;
}

}  // namespace

std::optional<std::string> file_store_dir(const std::string& url) {
    if (url.size() < 7) return std::nullopt;
    std::string scheme = url.substr(0, 7);
    for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme != "file://") return std::nullopt;
    std::string rest = url.substr(7);
    if (rest.rfind("localhost/", 0) == 0) rest.erase(0, 9);
    if (rest.empty() || rest.front() != '/')
        throw std::invalid_argument("'" + url + "' names no absolute directory (use file:///absolute/path)");
    std::string path;
    if (!percent_decode(rest, path) || path.find('\0') != std::string::npos)
        throw std::invalid_argument("'" + url + "' is not a valid file URL (bad percent-encoding)");
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    return path;
}

// --- FileStore -----------------------------------------------------------------

FileStore::FileStore(FileLocation where) : where_(std::move(where)) {
    const std::string who = where_.side + " store", dir = "file://" + where_.dir;
    if (where_.bucket.empty() || where_.bucket.find('\0') != std::string::npos)
        throw unavailable(who + ": the mapping's aws_bucket must be a non-empty name without NUL", dir);
    try {
        backend_ = backend_for(where_.dir);
    } catch (const S3Error&) {
        throw;
    } catch (const std::exception& e) {
        throw unavailable(who + " unavailable (see the log)", dir + ": " + e.what());
    }
    backend_->max_bytes.store(where_.max_bytes);
}

std::string FileStore::name_of(const std::string& key) const { return where_.bucket + '\0' + key; }

FileStore::Usage FileStore::usage() const { return backend_->usage(); }

const std::string& FileStore::directory() const { return backend_->dir; }

ReadResult FileStore::head(const std::string& key, const ReadOptions& opts) {
    const auto rec = backend_->lookup(name_of(key));
    if (!rec) return {};
    ByteRange range;
    return answer(key, *rec, opts, where_.side, range);
}

ReadResult FileStore::get(const std::string& key, const ReadOptions& opts, BodySink& sink) {
    FileBackend& b = *backend_;
    const std::string name = name_of(key);
    for (int attempt = 0;; ++attempt) {
        const auto rec = b.lookup(name);
        if (!rec) return {};
        ByteRange range;
        ReadResult r = answer(key, *rec, opts, where_.side, range);
        if (r.status != ReadResult::Status::Ok && r.status != ReadResult::Status::Partial) return r;
        Fd fd(::open(b.object_path(rec->file).c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.fd < 0) {
            // Replaced, deleted or evicted between reading the record and opening
            // the file: read the record again.
            if (errno == ENOENT && attempt < 3) continue;
            if (errno == ENOENT) throw b.outage(": the object's data file is missing", key);
            b.io_fail("read the object", errno, key);
        }
        if (rec->clean) {
            try {
                b.touch(name, rec->file);
            } catch (const std::exception& e) {
                log::warning(b.who(), ": cannot record an access to '", key, "': ", for_log(e));
            }
        }
        sink.begin(r);
        std::uint64_t offset = range.kind == ByteRange::Kind::Partial ? range.first : 0;
        std::uint64_t remaining = r.content_length;
        std::vector<char> buf(static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, std::max<std::uint64_t>(remaining, 1))));
        while (remaining > 0) {
            const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), remaining));
            const ssize_t n = ::pread(fd.fd, buf.data(), want, static_cast<off_t>(offset));
            if (n < 0) {
                if (errno == EINTR) continue;
                b.io_fail("read the object", errno, key);
            }
            if (n == 0) throw b.outage(": the object's data file is shorter than its record", key);
            sink.write(buf.data(), static_cast<std::size_t>(n));
            offset += static_cast<std::uint64_t>(n);
            remaining -= static_cast<std::uint64_t>(n);
        }
        return r;
    }
}

Stored FileStore::put(const std::string& key, const WriteOptions& opts, BodySource& body) {
    FileBackend& b = *backend_;
    const std::string name = name_of(key);
    std::string want_md5;
    if (!opts.content_md5.empty() && (!base64_decode(opts.content_md5, want_md5) || want_md5.size() != 16))
        throw S3Error(400, "InvalidDigest", "The Content-MD5 you specified is not valid.");
    const std::uint64_t length = body.length();
    auto room = b.reserve(name, length);
    TempFile tmp(b);
    Digest md5("md5");
    const std::uint64_t received = receive(body, tmp, md5);
    if (received != length)
        throw S3Error(400, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.");
    const std::string raw = md5.finish();
    if (!want_md5.empty() && raw != want_md5)
        throw S3Error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
    tmp.finish();
    Record rec;
    rec.file = new_object_file(b, name);
    rec.size = received;
    rec.etag = "\"" + to_hex(raw) + "\"";
    rec.mtime = modification_time();
    rec.content_type = opts.content_type;
    rec.user_meta = opts.user_meta;
    rec.headers = opts.headers;
    rec.clean = opts.clean;
    Placed placed{b, b.object_path(rec.file)};
    tmp.move_to(placed.path);
    b.commit(name, rec, room);
    placed.kept = true;
    return {rec.etag, rec.mtime};
}

void FileStore::remove(const std::string& key) { backend_->remove(name_of(key)); }

bool FileStore::mark_clean(const std::string& key, const ObjectInfo& as_read) {
    return backend_->mark_clean(name_of(key), as_read);
}

std::optional<std::string> FileStore::replace_metadata(const std::string& key, const WriteOptions& opts) {
    return backend_->replace_metadata(name_of(key), opts);
}

ListPage FileStore::list(const ListRequest& req) {
    std::unique_ptr<rocksdb::Iterator> it(backend_->db().NewIterator(rocksdb::ReadOptions()));
    try {
        return keyspace::list_page(*it, object_key(where_.bucket + '\0'), req,
                                   [](std::string_view value, ObjectInfo& info) {
                                       Record r;
                                       if (!decode(value, r)) return false;
                                       info = info_of(info.key, r);
                                       return true;
                                   },
                                   backend_->who());
    } catch (const S3Error&) {
        throw;
    } catch (const std::exception& e) {
        throw unavailable("local store failed to list (see the log)", e.what());
    }
}

// --- multipart ----------------------------------------------------------------

std::string FileStore::create_upload(const std::string& key, const WriteOptions& opts) {
    FileBackend& b = *backend_;
    UploadRecord u;
    u.content_type = opts.content_type;
    u.user_meta = opts.user_meta;
    u.headers = opts.headers;
    u.clean = opts.clean;
    u.initiated = modification_time();
    const std::string id = random_hex(kUploadIdLen / 2);
    std::error_code ec;
    fs::create_directories(b.upload_dir(id), ec);
    if (ec) b.io_fail("create an upload directory", ec.value(), b.upload_dir(id));
    b.sync_dir(b.dir + "/uploads");
    rocksdb::WriteBatch batch;
    batch.Put(upload_key(name_of(key), id), encode(u));
    b.write_sync(batch, "record upload " + id);
    return id;
}

std::string FileStore::upload_part(const std::string& key, const std::string& upload_id, int part_number,
                                   BodySource& body, const std::string& content_md5) {
    FileBackend& b = *backend_;
    const std::string name = name_of(key);
    const auto upload = b.lookup_upload(name, upload_id);
    if (!upload) throw no_such_upload(upload_id);
    if (part_number < 1 || part_number > 10000)
        throw S3Error(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
    std::string want_md5;
    if (!content_md5.empty() && (!base64_decode(content_md5, want_md5) || want_md5.size() != 16))
        throw S3Error(400, "InvalidDigest", "The Content-MD5 you specified is not valid.");
    const std::uint64_t length = body.length();
    if (!upload->clean) b.check_room(name, length);   // the object could never be stored: refuse early
    TempFile tmp(b);
    Digest md5("md5");
    const std::uint64_t received = receive(body, tmp, md5);
    if (received != length)
        throw S3Error(400, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.");
    PartRecord part;
    part.md5 = md5.finish();
    if (!want_md5.empty() && part.md5 != want_md5)
        throw S3Error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
    tmp.finish();
    part.file = std::to_string(part_number) + "-" + random_hex(8);
    part.size = received;
    part.mtime = modification_time();
    Placed placed{b, b.upload_dir(upload_id) + "/" + part.file};
    try {
        tmp.move_to(placed.path);
    } catch (const S3Error&) {
        if (!b.lookup_upload(name, upload_id)) throw no_such_upload(upload_id);   // aborted meanwhile
        throw;
    }
    b.commit_part(name, upload_id, part_number, part);
    placed.kept = true;
    return part.etag();
}

std::string FileStore::complete_upload(const std::string& key, const std::string& upload_id,
                                       const std::vector<PartInfo>& parts) {
    FileBackend& b = *backend_;
    const std::string name = name_of(key);
    const auto upload = b.lookup_upload(name, upload_id);
    if (!upload) throw no_such_upload(upload_id);
    if (parts.empty())
        throw S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against "
                                           "our published schema: the upload must name at least one part");
    std::vector<PartRecord> chosen;
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0 && parts[i].number <= parts[i - 1].number)
            throw S3Error(400, "InvalidPartOrder",
                          "The list of parts was not in ascending order. Parts must be ordered by part number.");
        const auto p = b.lookup_part(upload_id, parts[i].number);
        if (!p || strong(p->etag()) != strong(parts[i].etag))
            throw S3Error(400, "InvalidPart",
                          "One or more of the specified parts could not be found. The part may not have been "
                          "uploaded, or the specified entity tag may not have matched the part's entity tag.");
        chosen.push_back(*p);
        total += p->size;
    }
    for (std::size_t i = 0; i + 1 < chosen.size(); ++i)
        if (chosen[i].size < kMinPartSize)
            throw S3Error(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.");

    auto room = b.reserve(name, total);
    TempFile tmp(b);
    Digest etag_md5("md5");
    std::vector<char> buf(kChunk);
    for (std::size_t i = 0; i < chosen.size(); ++i) {
        const std::string path = b.upload_dir(upload_id) + "/" + chosen[i].file;
        Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.fd < 0) {
            if (errno != ENOENT) b.io_fail("read part " + std::to_string(parts[i].number), errno);
            if (!b.lookup_upload(name, upload_id)) throw no_such_upload(upload_id);
            throw S3Error(400, "InvalidPart", "Part " + std::to_string(parts[i].number) +
                                                  " was replaced while the upload was being completed; retry");
        }
        std::uint64_t copied = 0;
        for (;;) {
            const ssize_t n = ::read(fd.fd, buf.data(), buf.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                b.io_fail("read part " + std::to_string(parts[i].number), errno);
            }
            if (n == 0) break;
            tmp.write(buf.data(), static_cast<std::size_t>(n));
            copied += static_cast<std::uint64_t>(n);
        }
        if (copied != chosen[i].size)
            throw b.outage(": part " + std::to_string(parts[i].number) + " of upload " + upload_id +
                              " has " + std::to_string(copied) + " bytes, its record says " +
                              std::to_string(chosen[i].size));
        etag_md5.update(chosen[i].md5.data(), chosen[i].md5.size());
    }
    tmp.finish();
    Record rec;
    rec.file = new_object_file(b, name);
    rec.size = total;
    rec.etag = "\"" + to_hex(etag_md5.finish()) + "-" + std::to_string(chosen.size()) + "\"";
    rec.mtime = modification_time();
    rec.content_type = upload->content_type;
    rec.user_meta = upload->user_meta;
    rec.headers = upload->headers;
    rec.clean = upload->clean;
    Placed placed{b, b.object_path(rec.file)};
    tmp.move_to(placed.path);
    b.commit(name, rec, room, [&](rocksdb::WriteBatch& batch) {
        if (!b.lookup_upload(name, upload_id)) throw no_such_upload(upload_id);   // completed or aborted meanwhile
        b.delete_upload(name, upload_id, batch);
    });
    placed.kept = true;
    std::error_code ec;
    fs::remove_all(b.upload_dir(upload_id), ec);
    return rec.etag;
}

void FileStore::abort_upload(const std::string& key, const std::string& upload_id) {
    backend_->abort(name_of(key), upload_id);
}

PartsPage FileStore::list_parts(const std::string& key, const std::string& upload_id, int part_marker, int max_parts) {
    FileBackend& b = *backend_;
    if (!b.lookup_upload(name_of(key), upload_id)) throw no_such_upload(upload_id);
    PartsPage page;
    if (max_parts <= 0) return page;
    const std::string prefix = part_prefix(upload_id);
    std::unique_ptr<rocksdb::Iterator> it(b.db().NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(part_key(upload_id, std::max(part_marker, 0) + 1)); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
        if (static_cast<int>(page.parts.size()) == max_parts) {
            page.truncated = true;
            break;
        }
        PartRecord p;
        if (!decode(it->value().ToStringView(), p)) throw b.outage(": corrupt part record of upload " + upload_id);
        PartInfo info;
        info.number = static_cast<int>(from_be(it->key().ToStringView().substr(prefix.size())));
        info.etag = p.etag();
        info.size = p.size;
        info.last_modified = static_cast<std::time_t>(p.mtime);
        page.parts.push_back(info);
    }
    b.check(it->status(), "scan the parts of upload " + upload_id);
    if (page.truncated) page.next_marker = page.parts.back().number;
    return page;
}

UploadsPage FileStore::list_uploads(const UploadsRequest& req) {
    FileBackend& b = *backend_;
    UploadsPage page;
    if (req.max_uploads <= 0) return page;
    // Upload keys are "<name>\0<id>": after the key marker means past every upload
    // of that name, or past the named one of them.
    std::string marker;
    if (!req.key_marker.empty())
        marker = req.upload_id_marker.empty() ? req.key_marker + '\x01' : req.key_marker + '\0' + req.upload_id_marker;
    int count = 0;
    std::unique_ptr<rocksdb::Iterator> it(b.db().NewIterator(rocksdb::ReadOptions()));
    keyspace::rollup_scan(*it, "m" + where_.bucket + '\0', req.prefix, req.delimiter, marker, kUploadIdLen + 1,
                          [&](const keyspace::RollupItem& item) {
                              if (count == req.max_uploads) {
                                  page.truncated = true;
                                  return false;
                              }
                              if (item.is_prefix) {
                                  page.common_prefixes.push_back(item.name);
                                  page.next_key_marker = item.name;
                                  page.next_upload_id_marker.clear();
                              } else {
                                  if (item.name.size() <= kUploadIdLen) return true;
                                  UploadInfo u;
                                  u.key = item.name.substr(0, item.name.size() - kUploadIdLen - 1);
                                  u.upload_id = item.name.substr(item.name.size() - kUploadIdLen);
                                  UploadRecord rec;
                                  if (decode(item.value.ToStringView(), rec)) u.initiated = static_cast<std::time_t>(rec.initiated);
                                  page.next_key_marker = u.key;
                                  page.next_upload_id_marker = u.upload_id;
                                  page.uploads.push_back(std::move(u));
                              }
                              ++count;
                              return true;
                          });
    b.check(it->status(), "scan its uploads");
    if (!page.truncated) page.next_key_marker.clear(), page.next_upload_id_marker.clear();
    return page;
}

}  // namespace cc
