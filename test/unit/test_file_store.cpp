// The embedded file store (storage/file_store) over real temporary directories:
// data and metadata on disk, safe names, ranges, listings, multipart, and the
// capacity rule (least recently used clean copies go, local-only copies never).
#include <doctest/doctest.h>

#include <rocksdb/db.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "common/crypto.h"
#include "engine/mapping.h"
#include "engine/settings.h"
#include "storage/file_store.h"

using namespace cc;
namespace fs = std::filesystem;

namespace {

// Every directory of this file lives under one root, removed at exit (after the
// store registry's exit handler, registered later, has closed its databases).
struct TempRoot {
    fs::path path = fs::temp_directory_path() / ("cc-unit-file-store-" + std::to_string(::getpid()));
    ~TempRoot() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
} temp_root;

std::string fresh_dir() {
    static int n = 0;
    fs::path p = temp_root.path / std::to_string(++n);
    fs::create_directories(p);
    return p.string();
}

class StringSource : public BodySource {
public:
    explicit StringSource(std::string data, std::size_t fail_after = std::string::npos)
        : data_(std::move(data)), fail_after_(fail_after) {}
    std::size_t read(char* buf, std::size_t len) override {
        if (pos_ >= fail_after_) throw S3Error(400, "IncompleteBody", "the client went away");
        std::size_t n = std::min({len, data_.size() - pos_, fail_after_ - pos_});
        std::copy_n(data_.data() + pos_, n, buf);
        pos_ += n;
        return n;
    }
    std::uint64_t length() const override { return data_.size(); }
private:
    std::string data_;
    std::size_t fail_after_;
    std::size_t pos_ = 0;
};

struct StringSink : BodySink {
    ReadResult head;
    std::string body;
    int begun = 0;
    void begin(const ReadResult& h) override {
        head = h;
        ++begun;
    }
    void write(const char* d, std::size_t n) override { body.append(d, n); }
};

std::string bytes(std::size_t n, char seed) {
    std::string s(n, '\0');
    std::mt19937 rng(static_cast<unsigned>(seed));
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

std::string put(FileStore& s, const std::string& key, const std::string& data, bool clean = false,
                const std::string& content_md5 = "") {
    WriteOptions w;
    w.clean = clean;
    w.content_md5 = content_md5;
    StringSource src(data);
    return s.put(key, w, src).etag;
}

StringSink get(FileStore& s, const std::string& key, const std::string& range = "") {
    StringSink sink;
    ReadOptions o;
    o.range = range;
    sink.head = s.get(key, o, sink);
    return sink;
}

std::vector<fs::path> files_under(const fs::path& p) {
    std::vector<fs::path> out;
    for (auto& e : fs::recursive_directory_iterator(p))
        if (e.is_regular_file()) out.push_back(e.path());
    return out;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string quoted_md5(const std::string& data) { return "\"" + md5_hex(data) + "\""; }

// The metadata database, opened read-only beside the store that owns it.
std::set<std::string> meta_keys(const std::string& dir, char kind) {
    rocksdb::DB* raw = nullptr;
    rocksdb::Options options;
    REQUIRE(rocksdb::DB::OpenForReadOnly(options, dir + "/meta", &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::set<std::string> keys;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(std::string(1, kind)); it->Valid() && it->key()[0] == kind; it->Next()) keys.insert(it->key().ToString());
    return keys;
}

}  // namespace

TEST_CASE("file store: put, get, head, ranges, delete, with data and metadata on disk") {
    const std::string dir = fresh_dir();
    FileStore s(FileLocation{dir, "bkt", 0});
    const std::string data = bytes(300 * 1024 + 7, 'a');   // more than one 256 KiB chunk
    WriteOptions w;
    w.content_type = "text/x-test";
    w.user_meta = {{"color", "blue"}};
    w.headers = {{"cache-control", "no-cache"}};
    StringSource src(data);
    const Stored written = s.put("dir/obj", w, src);
    CHECK(written.etag == quoted_md5(data));

    StringSink whole = get(s, "dir/obj");
    CHECK(whole.head.status == ReadResult::Status::Ok);
    CHECK(whole.head.info.last_modified == written.last_modified);   // what the index records on a PUT
    CHECK(whole.begun == 1);
    CHECK(whole.body == data);
    CHECK(whole.head.content_length == data.size());
    CHECK(whole.head.info.content_type == "text/x-test");
    CHECK(whole.head.info.user_meta == HeaderList{{"color", "blue"}});
    CHECK(whole.head.info.headers == HeaderList{{"cache-control", "no-cache"}});
    CHECK(whole.head.answered_by == "local");

    StringSink mid = get(s, "dir/obj", "bytes=10-19");
    CHECK(mid.head.status == ReadResult::Status::Partial);
    CHECK(mid.body == data.substr(10, 10));
    CHECK(mid.head.content_range == "bytes 10-19/" + std::to_string(data.size()));
    CHECK(get(s, "dir/obj", "bytes=-5").body == data.substr(data.size() - 5));
    CHECK(get(s, "dir/obj", "bytes=307200-").body == data.substr(307200));
    CHECK(get(s, "dir/obj", "bytes=307200-999999999").body == data.substr(307200));
    StringSink bad = get(s, "dir/obj", "bytes=999999999-");
    CHECK(bad.head.status == ReadResult::Status::RangeNotSatisfiable);
    CHECK(bad.head.content_range == "bytes */" + std::to_string(data.size()));
    CHECK(bad.begun == 0);
    ReadOptions first_byte;
    first_byte.range = "bytes=0-0";
    CHECK(s.head("dir/obj", first_byte).content_length == 1);

    // Conditions are honoured when a layer pins a read (If-Match).
    ReadOptions pinned;
    pinned.if_match = "\"0123\"";
    StringSink refused;
    CHECK(s.get("dir/obj", pinned, refused).status == ReadResult::Status::PreconditionFailed);
    CHECK(refused.begun == 0);
    pinned.if_match = quoted_md5(data);
    CHECK(s.get("dir/obj", pinned, refused).status == ReadResult::Status::Ok);
    ReadOptions inm;
    inm.if_none_match = quoted_md5(data);
    CHECK(s.head("dir/obj", inm).status == ReadResult::Status::NotModified);

    // One data file with the bytes, named by a hash (never by the key); one record.
    auto files = files_under(fs::path(dir) / "objects");
    REQUIRE(files.size() == 1);
    CHECK(read_file(files[0]) == data);
    CHECK(files[0].filename().string().rfind(sha256_hex(std::string("bkt") + '\0' + "dir/obj"), 0) == 0);
    CHECK(meta_keys(dir, 'o') == std::set<std::string>{std::string("obkt") + '\0' + "dir/obj"});
    CHECK(s.usage().used_bytes == data.size());
    CHECK(s.usage().dirty_bytes == data.size());

    // A new version gets a new file; the old one is gone.
    CHECK(put(s, "dir/obj", "v2") == quoted_md5("v2"));
    files = files_under(fs::path(dir) / "objects");
    REQUIRE(files.size() == 1);
    CHECK(read_file(files[0]) == "v2");
    CHECK(s.usage().used_bytes == 2);

    // An empty object.
    CHECK(put(s, "empty", "") == quoted_md5(""));
    CHECK(get(s, "empty").head.status == ReadResult::Status::Ok);
    CHECK(get(s, "empty").body.empty());
    CHECK(get(s, "empty", "bytes=0-").head.status == ReadResult::Status::RangeNotSatisfiable);
    s.remove("empty");

    s.remove("dir/obj");
    s.remove("dir/obj");   // idempotent
    CHECK_FALSE(s.head("dir/obj", {}).found());
    CHECK_FALSE(get(s, "dir/obj").head.found());
    CHECK(files_under(fs::path(dir) / "objects").empty());
    CHECK(meta_keys(dir, 'o').empty());
    CHECK(s.usage().used_bytes == 0);
    CHECK(s.usage().objects == 0);
}

TEST_CASE("file store: any key is just a name inside the directory") {
    const fs::path root = fresh_dir();
    const std::string dir = (root / "store").string();
    FileStore s(FileLocation{dir, "bkt", 0});
    const std::vector<std::string> keys = {"../../x", "/etc/passwd", "a/../../b", "..", ".", "%2e%2e/x",
                                           "../", "//double", "\xc3\xa9t\xc3\xa9/\xe2\x9c\x93", "a\\..\\b"};
    for (const auto& k : keys) put(s, k, "data of " + k);
    for (const auto& k : keys) CHECK(get(s, k).body == "data of " + k);
    // Nothing was written outside the store's directory, and no file name carries a key.
    std::set<std::string> top;
    for (auto& e : fs::directory_iterator(root)) top.insert(e.path().filename().string());
    CHECK(top == std::set<std::string>{"store"});
    const auto files = files_under(fs::path(dir) / "objects");
    CHECK(files.size() == keys.size());
    for (const auto& f : files) {
        const std::string rel = fs::relative(f, fs::path(dir) / "objects").string();
        CHECK(rel.find("..") == std::string::npos);
        CHECK(rel.find_first_not_of("0123456789abcdef/-") == std::string::npos);
    }
    ListRequest all;
    std::set<std::string> listed;
    for (auto& e : s.list(all).entries) listed.insert(e.info.key);
    CHECK(listed == std::set<std::string>(keys.begin(), keys.end()));
}

TEST_CASE("file store: a bad digest or a failing body stores nothing") {
    const std::string dir = fresh_dir();
    FileStore s(FileLocation{dir, "bkt", 0});
    put(s, "k", "old version");
    try {
        put(s, "k", "new version", false, base64_encode(md5("something else")));
        FAIL("no BadDigest");
    } catch (const S3Error& e) {
        CHECK(e.status() == 400);
        CHECK(e.code() == "BadDigest");
    }
    CHECK(get(s, "k").body == "old version");
    CHECK(put(s, "k2", "right", false, base64_encode(md5("right"))) == quoted_md5("right"));

    WriteOptions w;
    StringSource broken(bytes(600 * 1024, 'b'), 300 * 1024);
    CHECK_THROWS_AS(s.put("k3", w, broken), S3Error);
    CHECK_FALSE(s.head("k3", {}).found());
    CHECK(fs::is_empty(fs::path(dir) / "tmp"));
    CHECK(files_under(fs::path(dir) / "objects").size() == 2);
}

TEST_CASE("file store: buckets are namespaces; metadata replace") {
    const std::string dir = fresh_dir();
    FileStore a(FileLocation{dir, "alpha", 0}), b(FileLocation{dir, "beta", 0});
    put(a, "same", "from alpha");
    put(b, "same", "from beta");
    CHECK(get(a, "same").body == "from alpha");
    CHECK(get(b, "same").body == "from beta");
    CHECK(a.list({}).entries.size() == 1);
    b.remove("same");
    CHECK(get(a, "same").body == "from alpha");
    CHECK(a.usage().objects == 1);

    WriteOptions w;
    w.content_type = "application/x-new";
    w.user_meta = {{"k", "v2"}};
    CHECK(a.replace_metadata("same", w) == quoted_md5("from alpha"));
    auto h = a.head("same", {});
    CHECK(h.info.content_type == "application/x-new");
    CHECK(h.info.user_meta == HeaderList{{"k", "v2"}});
    CHECK(h.info.headers.empty());
    CHECK(get(a, "same").body == "from alpha");
    CHECK_FALSE(a.replace_metadata("absent", w).has_value());
}

TEST_CASE("file store: listings roll up, page and resume like S3") {
    const std::string dir = fresh_dir();
    FileStore s(FileLocation{dir, "bkt", 0});
    for (const char* k : {"a", "b/1", "b/2", "b/3/x", "c", "d/1", "e"}) put(s, k, k);
    ListRequest r;
    r.delimiter = "/";
    auto names = [](const ListPage& p) {
        std::vector<std::string> out;
        for (auto& e : p.entries) out.push_back((e.is_prefix ? "P:" : "") + e.info.key);
        return out;
    };
    CHECK(names(s.list(r)) == std::vector<std::string>{"a", "P:b/", "c", "P:d/", "e"});
    r.max_keys = 2;
    ListPage p1 = s.list(r);
    CHECK(names(p1) == std::vector<std::string>{"a", "P:b/"});
    CHECK(p1.truncated);
    r.marker = p1.next_marker;
    ListPage p2 = s.list(r);
    CHECK(names(p2) == std::vector<std::string>{"c", "P:d/"});
    r.marker = p2.next_marker;
    ListPage p3 = s.list(r);
    CHECK(names(p3) == std::vector<std::string>{"e"});
    CHECK_FALSE(p3.truncated);

    ListRequest sub;
    sub.prefix = "b/";
    sub.delimiter = "/";
    CHECK(names(s.list(sub)) == std::vector<std::string>{"b/1", "b/2", "P:b/3/"});
    sub.marker = "b/1";
    CHECK(names(s.list(sub)) == std::vector<std::string>{"b/2", "P:b/3/"});
    ListRequest flat;
    flat.marker = "b/3/x";
    CHECK(names(s.list(flat)) == std::vector<std::string>{"c", "d/1", "e"});
    auto full = s.list({});
    CHECK(full.entries[0].info.etag == quoted_md5("a"));
    CHECK(full.entries[0].info.size == 1);
}

TEST_CASE("file store: multipart uploads") {
    const std::string dir = fresh_dir();
    FileStore s(FileLocation{dir, "bkt", 0});
    WriteOptions w;
    w.content_type = "video/x-test";
    w.user_meta = {{"m", "1"}};
    const std::string id = s.create_upload("big", w);
    CHECK(id.size() == 32);
    const std::string p1 = bytes(5 << 20, 'p'), p2 = bytes(1000, 'q');
    StringSource s1(p1), s2(p2), tiny("x");
    const std::string e1 = s.upload_part("big", id, 1, s1, "");
    const std::string e2 = s.upload_part("big", id, 2, s2, base64_encode(md5(p2)));
    CHECK(e1 == quoted_md5(p1));
    CHECK(s.upload_part("big", id, 3, tiny, "") == quoted_md5("x"));
    auto parts = s.list_parts("big", id, 0, 2);
    REQUIRE(parts.parts.size() == 2);
    CHECK(parts.truncated);
    CHECK(parts.parts[1].number == 2);
    CHECK(parts.parts[1].size == 1000);
    CHECK(s.list_parts("big", id, parts.next_marker, 10).parts.size() == 1);
    auto uploads = s.list_uploads({});
    REQUIRE(uploads.uploads.size() == 1);
    CHECK(uploads.uploads[0].key == "big");
    CHECK(uploads.uploads[0].upload_id == id);

    auto code = [](auto&& f) {
        try {
            f();
        } catch (const S3Error& e) {
            return e.code();
        }
        return std::string("no error");
    };
    CHECK(code([&] { s.complete_upload("big", id, {{1, "\"" + std::string(32, '0') + "\""}}); }) == "InvalidPart");
    CHECK(code([&] { s.complete_upload("big", id, {{2, e2}, {1, e1}}); }) == "InvalidPartOrder");
    CHECK(code([&] { s.complete_upload("big", id, {{2, e2}, {3, quoted_md5("x")}}); }) == "EntityTooSmall");
    CHECK(code([&] { s.list_parts("big", "../../etc", 0, 10); }) == "NoSuchUpload");
    CHECK(code([&] { s.list_parts("other", id, 0, 10); }) == "NoSuchUpload");

    const std::string etag = s.complete_upload("big", id, {{1, e1}, {2, e2}});
    CHECK(etag == "\"" + md5_hex(md5(p1) + md5(p2)) + "-2\"");
    StringSink got = get(s, "big");
    CHECK(got.body == p1 + p2);
    CHECK(got.head.info.etag == etag);
    CHECK(got.head.info.content_type == "video/x-test");
    CHECK(got.head.info.user_meta == HeaderList{{"m", "1"}});
    CHECK(code([&] { s.list_parts("big", id, 0, 10); }) == "NoSuchUpload");
    CHECK(code([&] { s.abort_upload("big", id); }) == "NoSuchUpload");
    CHECK(fs::is_empty(fs::path(dir) / "uploads"));
    CHECK(s.list_uploads({}).uploads.empty());

    const std::string gone = s.create_upload("aborted", {});
    StringSource s3(p2);
    s.upload_part("aborted", gone, 1, s3, "");
    s.abort_upload("aborted", gone);
    CHECK(fs::is_empty(fs::path(dir) / "uploads"));
    StringSource s4(p2);
    CHECK(code([&] { s.upload_part("aborted", gone, 1, s4, ""); }) == "NoSuchUpload");
    CHECK(meta_keys(dir, 'p').empty());
    CHECK(meta_keys(dir, 'm').empty());
}

TEST_CASE("file store: capacity evicts least recently used clean copies, never local-only ones") {
    const std::string dir = fresh_dir();
    FileStore s(FileLocation{dir, "bkt", 3000});
    put(s, "clean-a", bytes(1000, 'a'), true);
    put(s, "clean-b", bytes(1000, 'b'), true);
    put(s, "dirty-d", bytes(500, 'd'), false);
    CHECK(s.usage().used_bytes == 2500);
    CHECK(s.usage().dirty_bytes == 500);
    get(s, "clean-a");   // now b is the least recently used

    put(s, "dirty-e", bytes(1000, 'e'));   // 3500 > 3000: b goes
    CHECK_FALSE(s.head("clean-b", {}).found());
    CHECK(s.head("clean-a", {}).found());
    CHECK(s.head("dirty-d", {}).found());
    CHECK(s.usage().used_bytes == 2500);

    put(s, "dirty-f", bytes(1500, 'f'));   // 4000 > 3000: a goes
    CHECK_FALSE(s.head("clean-a", {}).found());
    CHECK(s.usage().used_bytes == 3000);
    CHECK(s.usage().dirty_bytes == 3000);
    CHECK(files_under(fs::path(dir) / "objects").size() == 3);

    // Full of local-only copies: writes are refused, nothing is evicted.
    try {
        put(s, "clean-g", bytes(100, 'g'), true);
        FAIL("no 507");
    } catch (const S3Error& e) {
        CHECK(e.status() == 507);
        CHECK(e.code() == "InsufficientStorage");
        CHECK(std::string(e.what()).find("is full: 3000 of 3000 bytes hold copies that exist only here") !=
              std::string::npos);
    }
    CHECK_FALSE(s.head("clean-g", {}).found());
    for (const char* k : {"dirty-d", "dirty-e", "dirty-f"}) CHECK(s.head(k, {}).found());
    CHECK(fs::is_empty(fs::path(dir) / "tmp"));

    // Replacing an object frees its old version: it fits.
    CHECK(put(s, "dirty-f", bytes(1400, 'F')) == quoted_md5(bytes(1400, 'F')));
    CHECK(s.usage().used_bytes == 2900);
    // Larger than the whole store.
    try {
        put(s, "huge", bytes(3001, 'h'), true);
        FAIL("no 507");
    } catch (const S3Error& e) {
        CHECK(e.status() == 507);
        CHECK(std::string(e.what()).find("cannot hold an object of 3001 bytes") != std::string::npos);
    }
    // A metadata change made here makes a clean copy local-only (and the reverse).
    s.remove("dirty-f");
    put(s, "clean-h", bytes(1000, 'h'), true);
    CHECK(s.usage().dirty_bytes == 1500);
    s.replace_metadata("clean-h", WriteOptions{});
    CHECK(s.usage().dirty_bytes == 2500);
    put(s, "dirty-i", bytes(500, 'i'));
    CHECK_THROWS_AS(put(s, "dirty-j", bytes(600, 'j')), S3Error);
    CHECK(s.head("clean-h", {}).found());
    WriteOptions clean;
    clean.clean = true;
    s.replace_metadata("clean-h", clean);
    put(s, "dirty-j", bytes(600, 'j'));
    CHECK_FALSE(s.head("clean-h", {}).found());
    CHECK(s.usage().used_bytes == 2600);
}

TEST_CASE("file store: file URLs") {
    CHECK(file_store_dir("http://host:80") == std::nullopt);
    CHECK(file_store_dir("") == std::nullopt);
    CHECK(file_store_dir("file:///var/lib/cc/store") == "/var/lib/cc/store");
    CHECK(file_store_dir("FILE:///a/") == "/a");
    CHECK(file_store_dir("file://localhost/a%20b") == "/a b");
    CHECK_THROWS_AS(file_store_dir("file://relative/dir"), std::invalid_argument);
    CHECK_THROWS_AS(file_store_dir("file://"), std::invalid_argument);
    CHECK_THROWS_AS(file_store_dir("file:///a%zz"), std::invalid_argument);
}

TEST_CASE("file store: file_store_max_bytes and file URLs in the mapping are validated") {
    auto max_of = [](const std::string& value) {
        return settings_from_ini(IniFile::parse("[DEFAULT]\nswift_baseurl = http://h:1\n[cloud-connector]\n"
                                                "file_store_max_bytes = " + value + "\n", "t.conf"))
            .file_store_max_bytes;
    };
    CHECK(settings_from_ini(IniFile::parse("[DEFAULT]\nswift_baseurl = http://h:1\n", "t.conf")).file_store_max_bytes == 0);
    CHECK(max_of("0") == 0);
    CHECK(max_of("3145728") == 3145728);
    CHECK(max_of("3M") == 3ull << 20);
    CHECK(max_of("2g") == 2ull << 30);
    CHECK(max_of("1T") == 1ull << 40);
    for (const char* bad : {"lots", "-1", "+5", "3MB", "1.5G", "M", "99999999999999999999", "20000000T"}) {
        CHECK_THROWS_WITH_AS(max_of(bad), doctest::Contains("[cloud-connector] file_store_max_bytes"),
                             std::runtime_error);
    }
    auto mapping = [](const std::string& endpoint) {
        return Mapping::parse(R"({"containers": [{"account": "A", "container": "c", "aws_bucket": "b",
                                 "aws_endpoint": ")" + endpoint + R"("}]})");
    };
    CHECK(mapping("file:///srv/store").entries()[0].aws_endpoint == "file:///srv/store");
    CHECK_THROWS_WITH_AS(mapping("file://srv/store"), doctest::Contains("mapping entry 0: \"aws_endpoint\""),
                         std::runtime_error);
}

TEST_CASE("file store: a delivered copy becomes clean, but only the version that was delivered") {
    const std::string dir = fresh_dir();
    FileStore s(FileLocation{dir, "bkt", 2000});
    put(s, "k", bytes(1000, '1'));
    const ObjectInfo delivered = s.head("k", {}).info;
    put(s, "k", bytes(1000, '2'));          // a newer local write, not on the remote yet
    CHECK_FALSE(s.mark_clean("k", delivered));
    CHECK(s.usage().dirty_bytes == 1000);
    CHECK_FALSE(s.mark_clean("missing", delivered));

    const ObjectInfo current = s.head("k", {}).info;
    CHECK(s.mark_clean("k", current));
    CHECK_FALSE(s.mark_clean("k", current));   // already clean: nothing to do
    CHECK(s.usage().dirty_bytes == 0);
    CHECK(meta_keys(dir, 'l').size() == 1);   // in the LRU order now

    // Evictable: a local-only write that needs the room takes it.
    put(s, "local-only", bytes(1500, 'x'));
    CHECK_FALSE(s.head("k", {}).found());
    CHECK(s.usage().dirty_bytes == 1500);
}

// ---------------------------------------------------------------- ranges (storage/byte_range.h)

#include "storage/byte_range.h"

TEST_CASE("Range headers resolve as S3 and Swift read them") {
    using K = cc::ByteRange::Kind;
    auto partial = [](const std::string& h, std::uint64_t size, std::uint64_t first, std::uint64_t last) {
        CAPTURE(h);
        const cc::ByteRange r = cc::resolve_range(h, size);
        CHECK(r.kind == K::Partial);
        CHECK(r.first == first);
        CHECK(r.last == last);
    };
    partial("bytes=0-0", 10, 0, 0);
    partial("bytes=2-", 10, 2, 9);
    partial("bytes=-3", 10, 7, 9);
    partial("bytes=-30", 10, 0, 9);
    partial("bytes=5-100", 10, 5, 9);
    partial("bytes=0-99999999999999999999", 10, 0, 9);   // past 64 bits: the end of the object
    partial("bytes= 1-2", 10, 1, 2);                      // blanks around the positions
    partial("bytes=1 - 2 ", 10, 1, 2);
    CHECK(cc::resolve_range("bytes=10-", 10).kind == K::Unsatisfiable);
    CHECK(cc::resolve_range("bytes=99999999999999999999-", 10).kind == K::Unsatisfiable);
    CHECK(cc::resolve_range("bytes=-0", 10).kind == K::Unsatisfiable);
    for (const char* ignored : {"bytes=3-1", "bytes=a-b", "bytes=0-1,3-4", "items=0-1", "bytes=", "bytes=-"})
        CHECK(cc::resolve_range(ignored, 10).kind == K::Whole);
}
