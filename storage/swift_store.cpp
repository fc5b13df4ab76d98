#include "storage/swift_store.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>

#include "common/crypto.h"
#include "common/timefmt.h"
#include "common/uri.h"
#include "storage/byte_range.h"
#include "storage/s3_store.h"   // object_info_from_headers, add_write_headers

namespace cc {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kListingLimit = 1000;   // S3's page size; also keeps a page under http_client's buffer cap
constexpr auto kContainerCheckTtl = std::chrono::seconds(60);

// Auth v1 results, shared by every SwiftStore of the process (stores are made per request).
struct Session {
    std::string storage_url, token;
    Clock::time_point expires;
};

class SessionCache {
public:
    std::optional<Session> get(const std::string& id) {
        std::lock_guard lock(mutex_);
        auto it = sessions_.find(id);
        if (it == sessions_.end() || Clock::now() >= it->second.expires) return std::nullopt;
        return it->second;
    }
    void put(const std::string& id, Session s) {
        std::lock_guard lock(mutex_);
        sessions_[id] = std::move(s);
    }
    // Drops the token only if it is still the one that was refused (another thread may have renewed it).
    void invalidate(const std::string& id, const std::string& token) {
        std::lock_guard lock(mutex_);
        auto it = sessions_.find(id);
        if (it != sessions_.end() && it->second.token == token) sessions_.erase(it);
    }
    bool container_known(const std::string& url) {
        std::lock_guard lock(mutex_);
        auto it = containers_.find(url);
        return it != containers_.end() && Clock::now() < it->second;
    }
    void container_seen(const std::string& url) {
        std::lock_guard lock(mutex_);
        containers_[url] = Clock::now() + kContainerCheckTtl;
    }
private:
    std::mutex mutex_;
    std::map<std::string, Session> sessions_;
    std::map<std::string, Clock::time_point> containers_;
};

SessionCache& sessions() {
    static SessionCache cache;
    return cache;
}

std::string quoted(const std::string& etag) {
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') return etag;
    return "\"" + etag + "\"";
}


ObjectInfo swift_info(const std::string& key, const HttpResponse& resp) {
    ObjectInfo info = object_info_from_headers(key, resp, "x-object-meta-");
    if (!info.etag.empty()) info.etag = quoted(info.etag);
    return info;
}

void fill_read(ReadResult& r, const std::string& key, const HttpResponse& resp) {
    r.status = status_of(resp.status);
    r.info = swift_info(key, resp);
    const auto* len = resp.header("content-length");
    r.content_length = len ? std::strtoull(len->c_str(), nullptr, 10) : r.info.size;
    if (const auto* cr = resp.header("content-range")) r.content_range = *cr;
}

// Swift ignores Range on HEAD; S3 answers it as the GET would (see byte_range.h).
void apply_head_range(ReadResult& r, const std::string& range) {
    if (r.status != ReadResult::Status::Ok) return;
    const ByteRange br = resolve_range(range, r.info.size);
    if (br.kind == ByteRange::Kind::Whole) return;
    r.content_range = br.content_range(r.info.size);
    if (br.kind == ByteRange::Kind::Unsatisfiable) {
        r.status = ReadResult::Status::RangeNotSatisfiable;
        return;
    }
    r.status = ReadResult::Status::Partial;
    r.content_length = br.length();
}

// Counts what the body source gave away: a request whose body was (partly) sent cannot be retried.
class CountingSource : public BodySource {
public:
    explicit CountingSource(BodySource& inner) : inner_(inner) {}
    std::size_t read(char* buf, std::size_t len) override {
        std::size_t n = inner_.read(buf, len);
        read_ += n;
        return n;
    }
    std::uint64_t length() const override { return inner_.length(); }
    bool touched() const { return read_ > 0; }
private:
    BodySource& inner_;
    std::uint64_t read_ = 0;
};

// Text of a (small, usually HTML) Swift error body, for messages.
std::string body_text(const std::string& body) {
    std::string out;
    bool in_tag = false;
    for (char c : body) {
        if (c == '<') in_tag = true;
        else if (c == '>') { in_tag = false; if (!out.empty() && out.back() != ' ') out += ' '; }
        else if (!in_tag) out += (c == '\n' || c == '\r') ? ' ' : c;
        if (out.size() >= 300) break;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    while (!out.empty() && out.front() == ' ') out.erase(0, 1);
    return out;
}

// One auth v1 conversation with the store's cluster.
class SwiftClient {
public:
    explicit SwiftClient(const SwiftLocation& w) : w_(w), id_(w.auth_url + '\n' + w.user + '\n' + w.key) {}

    std::string who() const { return w_.side + " store"; }
    // Where it is, for the log only (common/s3error.h).
    std::string where() const { return w_.auth_url + ", container '" + w_.container + "'"; }

    // As S3Store::fail: the client hears the side, the operation and the status;
    // the object's name in the store, where the store is and its words go to the log.
    [[noreturn]] void fail(const HttpResponse& resp, const std::string& verb, const std::string& object = {}) const {
        std::string text = body_text(resp.body);
        const std::string what = object.empty() ? verb : verb + " the object";
        const std::string status = "HTTP " + std::to_string(resp.status);
        const std::string detail =
            where() + (object.empty() ? "" : ", object '" + object + "'") + (text.empty() ? "" : ": " + text);
        if (resp.status >= 500 || resp.status == 0) throw unavailable(who() + " failed to " + what + ": " + status, detail);
        // The connector's own credentials or container being wrong is an outage the client cannot fix.
        if (resp.status == 401 || resp.status == 403)
            throw unavailable(who() + " refused to " + what + " (check the mapping's credentials): " + status, detail);
        if (resp.status == 404)
            throw unavailable(who() + " failed to " + what + ": the container does not exist (check the mapping's aws_bucket)",
                              detail);
        S3Error refused = resp.status == 413
            ? S3Error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size (" + status + ")")
            : S3Error(resp.status >= 400 && resp.status < 500 ? resp.status : 400, "InvalidRequest",
                      "the " + w_.side + " store refused to " + what + ": " + status + (text.empty() ? "" : ": " + text));
        refused.operator_detail = detail;
        throw refused;
    }

    // A request to the container (object empty) or to one object of it. Re-authenticates once on a 401.
    HttpResponse send(const std::string& method, const std::string& object, const std::string& query,
                      HeaderList headers, BodySource* body,
                      const std::function<BodySink*(const HttpResponse&)>& stream_to = {}) {
        std::optional<CountingSource> counting;
        if (body) {
            counting.emplace(*body);
            // Let the cluster refuse a stale token before any byte of the body is sent, so it can be retried.
            if (body->length() > 0) headers.emplace_back("Expect", "100-continue");
        }
        for (int attempt = 0;; ++attempt) {
            Session s = session();
            HttpRequest req;
            req.method = method;
            req.url = s.storage_url + "/" + uri_encode(w_.container);
            if (!object.empty()) req.url += "/" + uri_encode(object, /*keep_slash=*/true);
            if (!query.empty()) req.url += "?" + query;
            req.headers = headers;
            req.headers.emplace_back("X-Auth-Token", s.token);
            req.body = counting ? &*counting : nullptr;
            req.timeouts = w_.timeouts;
            HttpResponse resp;
            try {
                resp = http_perform(req, stream_to);
            } catch (const TransportError& e) {
                throw unavailable(w_.side + " store unavailable: " + e.what(), s.storage_url);
            }
            if (resp.status != 401 || attempt > 0) return resp;
            sessions().invalidate(id_, s.token);
            if (counting && counting->touched())
                throw unavailable(who() + " refused its auth token during an upload; the token was renewed, retry");
        }
    }

    // For a 404 on an object: does the container itself exist? (Swift says 404 either way.)
    bool container_exists() {
        const std::string id = id_ + '\n' + w_.container;
        if (sessions().container_known(id)) return true;
        HttpResponse resp = send("HEAD", "", "", {}, nullptr);
        if (resp.status == 404) return false;
        if (resp.status < 200 || resp.status > 299) fail(resp, "check the container");
        sessions().container_seen(id);
        return true;
    }

private:
    Session session() {
        if (auto s = sessions().get(id_)) return *s;
        HttpRequest req;
        req.url = w_.auth_url;
        req.headers = {{"X-Auth-User", w_.user}, {"X-Auth-Key", w_.key}};
        req.timeouts = w_.timeouts;
        HttpResponse resp;
        try {
            resp = http_perform(req);
        } catch (const TransportError& e) {
            throw unavailable(w_.side + " store unavailable: " + e.what(), w_.auth_url);
        }
        if (resp.status == 401 || resp.status == 403)
            throw unavailable(w_.side + " store refused to authenticate the connector (check the mapping's "
                                  "aws_identity and aws_secret): HTTP " + std::to_string(resp.status),
                              w_.auth_url + ", user '" + w_.user + "'");
        const auto* url = resp.header("x-storage-url");
        const auto* token = resp.header("x-auth-token");
        if (resp.status < 200 || resp.status > 299 || !url || !token || url->empty() || token->empty())
            throw unavailable(w_.side + " store failed to authenticate the connector: HTTP " +
                                  std::to_string(resp.status) +
                                  (resp.status / 100 == 2 ? " without X-Storage-Url/X-Auth-Token" : ""),
                              w_.auth_url + ", user '" + w_.user + "'");
        Session s{*url, *token, Clock::now() + std::chrono::hours(1)};
        while (!s.storage_url.empty() && s.storage_url.back() == '/') s.storage_url.pop_back();
        if (const auto* exp = resp.header("x-auth-token-expires")) {
            long long secs = std::atoll(exp->c_str());
            if (secs > 0) s.expires = Clock::now() + std::chrono::seconds(secs > 60 ? secs - 30 : secs / 2);
        }
        sessions().put(id_, s);
        return s;
    }

    const SwiftLocation& w_;
    std::string id_;
};

std::string query_string(const std::vector<std::pair<std::string, std::string>>& q) {
    std::string out;
    for (const auto& [k, v] : q) out += (out.empty() ? "" : "&") + k + "=" + uri_encode(v);
    return out;
}

ListPage parse_listing(const std::string& body) {
    Poco::JSON::Parser parser;
    auto arr = parser.parse(body).extract<Poco::JSON::Array::Ptr>();
    if (!arr) throw std::runtime_error("not a JSON array");
    ListPage page;
    for (std::size_t i = 0; i < arr->size(); ++i) {
        auto o = arr->getObject(static_cast<unsigned>(i));
        if (!o) throw std::runtime_error("listing entry is not an object");
        ListEntry e;
        if (o->has("subdir")) {
            e.is_prefix = true;
            e.info.key = o->getValue<std::string>("subdir");
        } else {
            e.info.key = o->getValue<std::string>("name");
            e.info.size = o->getValue<std::uint64_t>("bytes");
            // Large objects: the S3-style ETag, when the cluster keeps one.
            std::string etag = o->has("slo_etag") ? o->getValue<std::string>("slo_etag") : o->optValue<std::string>("hash", "");
            e.info.etag = quoted(etag);
            e.info.content_type = o->optValue<std::string>("content_type", "");
            // Swift: "2026-12-03T12:36:30.325940", UTC without a zone.
            std::string lm = o->optValue<std::string>("last_modified", "");
            e.info.last_modified = parse_iso8601(lm + "Z").value_or(parse_iso8601(lm).value_or(0));
        }
        page.entries.push_back(std::move(e));
    }
    return page;
}

}  // namespace

SwiftStore::SwiftStore(SwiftLocation where) : where_(std::move(where)) {}

ReadResult SwiftStore::head(const std::string& key, const ReadOptions& opts) {
    SwiftClient c(where_);
    HeaderList h;
    add_read_headers(opts, h);
    HttpResponse resp = c.send("HEAD", key, "", std::move(h), nullptr);
    if (resp.status == 404) {
        if (!c.container_exists()) c.fail(resp, "read", key);
        return {};
    }
    ReadResult r;
    if (status_of(resp.status) == ReadResult::Status::NotFound) c.fail(resp, "read", key);
    fill_read(r, key, resp);
    if (!opts.range.empty()) apply_head_range(r, opts.range);
    r.answered_by = where_.side;
    return r;
}

ReadResult SwiftStore::get(const std::string& key, const ReadOptions& opts, BodySink& sink) {
    SwiftClient c(where_);
    HeaderList h;
    add_read_headers(opts, h);
    ReadResult r;
    r.answered_by = where_.side;
    HttpResponse resp = c.send("GET", key, "", std::move(h), nullptr, [&](const HttpResponse& head) -> BodySink* {
        if (head.status != 200 && head.status != 206) return nullptr;
        fill_read(r, key, head);
        sink.begin(r);
        return &sink;
    });
    if (resp.status == 200 || resp.status == 206) return r;
    if (resp.status == 404) {
        if (!c.container_exists()) c.fail(resp, "read", key);
        return {};
    }
    if (status_of(resp.status) == ReadResult::Status::NotFound) c.fail(resp, "read", key);
    fill_read(r, key, resp);
    return r;
}

Stored SwiftStore::put(const std::string& key, const WriteOptions& opts, BodySource& body) {
    SwiftClient c(where_);
    WriteOptions w = opts;
    w.content_md5.clear();   // Swift checks an ETag (hex MD5) instead
    HeaderList h;
    add_write_headers(w, h, "X-Object-Meta-");
    std::string raw;
    if (!opts.content_md5.empty() && base64_decode(opts.content_md5, raw) && raw.size() == 16)
        h.emplace_back("ETag", to_hex(raw));
    HttpResponse resp = c.send("PUT", key, "", std::move(h), &body);
    if (resp.status == 422)
        throw S3Error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
    if (resp.status != 201 && resp.status != 200) c.fail(resp, "store", key);
    Stored written = stored_from_headers(resp);
    if (!written.etag.empty()) written.etag = quoted(written.etag);   // Swift's ETag comes unquoted
    return written;
}

void SwiftStore::remove(const std::string& key) {
    SwiftClient c(where_);
    HttpResponse resp = c.send("DELETE", key, "", {}, nullptr);
    if (resp.status == 204 || resp.status == 200) return;
    if (resp.status == 404 && c.container_exists()) return;
    c.fail(resp, "delete", key);
}

std::optional<std::string> SwiftStore::replace_metadata(const std::string& key, const WriteOptions& opts) {
    SwiftClient c(where_);
    WriteOptions w = opts;
    w.content_md5.clear();
    HeaderList h;
    // Swift's POST replaces all user metadata (and Content-Type when given) in place.
    add_write_headers(w, h, "X-Object-Meta-");
    h.emplace_back("Content-Length", "0");
    HttpResponse resp = c.send("POST", key, "", std::move(h), nullptr);
    if (resp.status == 404) {
        if (!c.container_exists()) c.fail(resp, "update metadata of", key);
        return std::nullopt;
    }
    if (resp.status < 200 || resp.status > 299) c.fail(resp, "update metadata of", key);
    // The POST answer carries no ETag: ask for it.
    HttpResponse after = c.send("HEAD", key, "", {}, nullptr);
    if (after.status == 404) return std::nullopt;   // deleted in between
    if (after.status != 200) c.fail(after, "read '" + key + "'");
    const auto* etag = after.header("etag");
    return etag ? quoted(*etag) : std::string();
}

ListPage SwiftStore::list(const ListRequest& lr) {
    if (lr.max_keys <= 0) return {};
    SwiftClient c(where_);
    const int limit = std::min(lr.max_keys, kListingLimit);
    std::vector<std::pair<std::string, std::string>> q{{"format", "json"}, {"limit", std::to_string(limit)}};
    if (!lr.prefix.empty()) q.emplace_back("prefix", lr.prefix);
    if (!lr.delimiter.empty()) q.emplace_back("delimiter", lr.delimiter);
    if (!lr.marker.empty()) q.emplace_back("marker", lr.marker);
    HttpResponse resp = c.send("GET", "", query_string(q), {}, nullptr);
    if (resp.status == 204) return {};   // an empty container, as some clusters answer it
    if (resp.status != 200) c.fail(resp, "list");
    ListPage page;
    try {
        page = parse_listing(resp.body);
    } catch (const std::exception& e) {
        throw unavailable(where_.side + " store sent a listing that could not be parsed: " + e.what());
    }
    // Swift does not say whether more follow: a full page may have a successor.
    if (static_cast<int>(page.entries.size()) >= limit) {
        page.truncated = true;
        page.next_marker = page.entries.back().info.key;
    }
    return page;
}

}  // namespace cc
