#include "storage/s3_store.h"

#include <Poco/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/NodeList.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "common/metrics.h"
#include "common/request_context.h"
#include "common/sigv4.h"
#include "common/timefmt.h"
#include "common/uri.h"
#include "common/xml_escape.h"
#include "storage/xml_reader.h"

namespace cc {
namespace {

const char* const kPassThroughHeaders[] = {"cache-control", "content-disposition", "content-encoding",
                                           "content-language", "expires"};

std::string host_of(const std::string& endpoint) {
    auto start = endpoint.find("://");
    start = start == std::string::npos ? 0 : start + 3;
    auto end = endpoint.find('/', start);
    return endpoint.substr(start, end == std::string::npos ? std::string::npos : end - start);
}


}  // namespace

void add_read_headers(const ReadOptions& o, HeaderList& h) {
    if (!o.range.empty()) h.emplace_back("Range", o.range);
    if (!o.if_match.empty()) h.emplace_back("If-Match", o.if_match);
    if (!o.if_none_match.empty()) h.emplace_back("If-None-Match", o.if_none_match);
    if (!o.if_modified_since.empty()) h.emplace_back("If-Modified-Since", o.if_modified_since);
    if (!o.if_unmodified_since.empty()) h.emplace_back("If-Unmodified-Since", o.if_unmodified_since);
}

ReadResult::Status status_of(int http) {
    switch (http) {
        case 200: return ReadResult::Status::Ok;
        case 206: return ReadResult::Status::Partial;
        case 304: return ReadResult::Status::NotModified;
        case 412: return ReadResult::Status::PreconditionFailed;
        case 416: return ReadResult::Status::RangeNotSatisfiable;
        default: return ReadResult::Status::NotFound;
    }
}

ObjectInfo object_info_from_headers(const std::string& key, const HttpResponse& resp, std::string_view meta_prefix) {
    ObjectInfo info;
    info.key = key;
    for (const auto& [name, value] : resp.headers) {
        if (name == "content-length") info.size = std::strtoull(value.c_str(), nullptr, 10);
        else if (name == "etag") info.etag = value;
        else if (name == "last-modified") info.last_modified = parse_http_date(value).value_or(0);
        else if (name == "content-type") info.content_type = value;
        else if (name.rfind(meta_prefix, 0) == 0) info.user_meta.emplace_back(name.substr(meta_prefix.size()), value);
        else
            for (const char* h : kPassThroughHeaders)
                if (name == h) info.headers.emplace_back(name, value);
    }
    // For a 206 the object's size is the part after the '/' of Content-Range.
    if (const auto* cr = resp.header("content-range")) {
        auto slash = cr->rfind('/');
        if (slash != std::string::npos && (*cr)[slash + 1] != '*')
            info.size = std::strtoull(cr->c_str() + slash + 1, nullptr, 10);
    }
    return info;
}

Stored stored_from_headers(const HttpResponse& resp) {
    Stored s;
    if (const auto* etag = resp.header("etag")) s.etag = *etag;
    if (const auto* lm = resp.header("last-modified")) s.last_modified = parse_http_date(*lm).value_or(0);
    return s;
}

void add_write_headers(const WriteOptions& opts, HeaderList& headers, std::string_view meta_prefix) {
    if (!opts.content_type.empty()) headers.emplace_back("Content-Type", opts.content_type);
    if (!opts.content_md5.empty()) headers.emplace_back("Content-MD5", opts.content_md5);
    for (const auto& [k, v] : opts.user_meta) headers.emplace_back(std::string(meta_prefix) + k, v);
    for (const auto& h : opts.headers) headers.push_back(h);
}

S3Store::S3Store(S3Location where, CredentialSource creds)
    : where_(std::move(where)), creds_(std::move(creds)), host_(host_of(where_.endpoint)) {}

HttpResponse S3Store::send(const std::string& method, const std::string& key,
                           const std::vector<std::pair<std::string, std::string>>& query,
                           HeaderList headers, BodySource* body,
                           const std::function<BodySink*(const HttpResponse&)>& stream_to) {
    std::string path = "/" + uri_encode(where_.bucket);
    if (!key.empty()) path += "/" + uri_encode(key, /*keep_slash=*/true);
    return perform(method, path, query, std::move(headers), body, stream_to);
}

HttpResponse S3Store::perform(const std::string& method, const std::string& path,
                              const std::vector<std::pair<std::string, std::string>>& query,
                              HeaderList headers, BodySource* body,
                              const std::function<BodySink*(const HttpResponse&)>& stream_to) {
    const Credentials cred = creds_();
    const std::time_t now = std::time(nullptr);
    const std::string date = amz_date(now);
    const std::string payload = body ? std::string(sigv4::kUnsignedPayload) : std::string(sigv4::kEmptySha256);

    headers.emplace_back("Host", host_);
    if (!current_request_id().empty()) headers.emplace_back("X-Trans-Id-Extra", current_request_id());
    headers.emplace_back("x-amz-date", date);
    headers.emplace_back("x-amz-content-sha256", payload);
    if (!cred.session_token.empty()) headers.emplace_back("x-amz-security-token", cred.session_token);

    sigv4::CanonicalInput in{method, path, query, headers, payload};
    std::string signed_headers;
    sigv4::canonical_headers(headers, signed_headers);
    const std::string scope = sigv4::scope(amz_day(now), where_.region, "s3");
    const std::string sts = sigv4::string_to_sign(date, scope, sigv4::canonical_request(in));
    const std::string sig =
        sigv4::signature_hex(sigv4::signing_key(cred.secret_key, amz_day(now), where_.region, "s3"), sts);
    headers.emplace_back("Authorization", std::string(sigv4::kAlgorithm) + " Credential=" + cred.access_key + "/" +
                                              scope + ", SignedHeaders=" + signed_headers + ", Signature=" + sig);

    HttpRequest req;
    req.method = method;
    req.url = where_.endpoint + path;
    if (!query.empty()) req.url += "?" + sigv4::canonical_query(query);
    req.headers = std::move(headers);
    req.body = body;
    req.timeouts = where_.timeouts;
    try {
        return http_perform(req, stream_to);
    } catch (const TransportError& e) {
        const bool timeout = std::string_view(e.what()).find("Timeout") != std::string_view::npos;
        metrics::add("cc_backend_errors_total", {{"side", where_.side}, {"kind", timeout ? "timeout" : "connect"}});
        throw unavailable(where_.side + " store unavailable: " + e.what(), where_.endpoint);   // curl's words: no address
    }
}

namespace {

// An S3 error code as a backend sent it, if it looks like one (letters and digits): a
// client sees it, so nothing else a backend writes there reaches it.
std::string plain_code(std::string code) {
    const bool plain = !code.empty() && code.size() <= 64 &&
                       std::all_of(code.begin(), code.end(), [](unsigned char c) { return std::isalnum(c) != 0; });
    return plain ? code : std::string();
}

// Answers that say the connector's settings or mapping are wrong (a region, an
// endpoint that redirects elsewhere), not the request: an outage the client cannot
// fix, whichever side answers.
bool misdirected(int status, const std::string& code) {
    return (status >= 300 && status < 400) || code == "AuthorizationHeaderMalformed" || code == "PermanentRedirect" ||
           code == "TemporaryRedirect" || code == "IllegalLocationConstraintException";
}

// The same for the local side, which speaks with the connector's own credentials
// (the remote side speaks with the client's: a 403 there is the client's).
bool connector_refused(int status, const std::string& code) {
    return status == 401 || status == 403 || code == "NoSuchBucket" || code == "InvalidBucketName" ||
           code == "InvalidToken" || code == "ExpiredToken" || code == "TokenRefreshRequired";
}

}  // namespace

// The client hears the side, the operation and the status; the store's own name
// for the object (on the local side, the on-prem layout's), where the store is and
// its words go to the log (common/s3error.h).
void S3Store::fail(const HttpResponse& resp, const std::string& verb, const std::string& object) const {
    std::string code = plain_code(xml_first_text(resp.body, "Code"));
    std::string message = xml_first_text(resp.body, "Message");
    const std::string what = object.empty() ? verb : verb + " the object";
    const std::string status = "HTTP " + std::to_string(resp.status) + (code.empty() ? "" : " " + code);
    const std::string detail = where_.endpoint + "/" + where_.bucket + (object.empty() ? "" : "/" + object) +
                               (message.empty() ? "" : ": " + message);
    const std::string who = where_.side + " store";
    if (resp.status >= 500 || resp.status == 0) {
        metrics::add("cc_backend_errors_total", {{"side", where_.side}, {"kind", "http5xx"}});
        throw unavailable(who + " failed to " + what + ": " + status, detail);
    }
    if (misdirected(resp.status, code) || (where_.side != "remote" && connector_refused(resp.status, code))) {
        metrics::add("cc_backend_errors_total", {{"side", where_.side}, {"kind", "refused"}});
        const std::string check = where_.side == "remote" ? "check swift_baseurl and remote_region"
                                                          : "check the mapping's endpoint, region, bucket and credentials";
        throw unavailable(who + " refused to " + what + " (" + check + "): " + status, detail);
    }
    if (code.empty()) code = resp.status == 403 ? "AccessDenied" : "InvalidRequest";
    if (message.empty()) message = "the " + where_.side + " store answered HTTP " + std::to_string(resp.status);
    throw S3Error(resp.status, code, message);
}

ReadResult S3Store::head(const std::string& key, const ReadOptions& opts) {
    HeaderList h;
    add_read_headers(opts, h);
    HttpResponse resp = send("HEAD", key, {}, std::move(h), nullptr);
    if (resp.status == 404) {
        // A HEAD 404 has no body to tell NoSuchKey from NoSuchBucket: on the local
        // side a missing bucket is an outage (as for GET), never "no such object".
        if (where_.side != "remote" && !bucket_exists())
            throw unavailable(where_.side + " store refused to read the object: the bucket does not exist "
                                  "(check the mapping)",
                              where_.endpoint + "/" + where_.bucket + "/" + key);
        return {};
    }
    ReadResult r;
    r.status = status_of(resp.status);
    if (r.status == ReadResult::Status::NotFound) fail(resp, "read", key);
    r.info = object_info_from_headers(key, resp);
    const auto* len = resp.header("content-length");
    r.content_length = len ? std::strtoull(len->c_str(), nullptr, 10) : r.info.size;
    if (const auto* cr = resp.header("content-range")) r.content_range = *cr;
    r.answered_by = where_.side;
    if (r.status == ReadResult::Status::RangeNotSatisfiable && r.content_range.empty()) {
        ReadResult whole = head(key, ReadOptions{});
        if (whole.found()) r.content_range = "bytes */" + std::to_string(whole.info.size);
    }
    return r;
}

ReadResult S3Store::get(const std::string& key, const ReadOptions& opts, BodySink& sink) {
    HeaderList h;
    add_read_headers(opts, h);
    ReadResult r;
    r.answered_by = where_.side;
    HttpResponse resp = send("GET", key, {}, std::move(h), nullptr, [&](const HttpResponse& head) -> BodySink* {
        if (head.status != 200 && head.status != 206) return nullptr;
        r.status = status_of(head.status);
        r.info = object_info_from_headers(key, head);
        const auto* len = head.header("content-length");
        r.content_length = len ? std::strtoull(len->c_str(), nullptr, 10) : r.info.size;
        if (const auto* cr = head.header("content-range")) r.content_range = *cr;
        sink.begin(r);
        return &sink;
    });
    if (resp.status == 200 || resp.status == 206) return r;
    if (resp.status == 404 && (where_.side == "remote" || xml_first_text(resp.body, "Code") != "NoSuchBucket"))
        return {};
    r.status = status_of(resp.status);
    if (r.status == ReadResult::Status::NotFound) fail(resp, "read", key);
    r.info = object_info_from_headers(key, resp);
    if (const auto* cr = resp.header("content-range")) r.content_range = *cr;
    if (r.status == ReadResult::Status::RangeNotSatisfiable && r.content_range.empty()) {
        // S3 says how big the object is ("bytes */size"); not every backend does.
        ReadResult whole = head(key, ReadOptions{});
        if (whole.found()) r.content_range = "bytes */" + std::to_string(whole.info.size);
    }
    return r;
}

Stored S3Store::put(const std::string& key, const WriteOptions& opts, BodySource& body) {
    HeaderList h;
    add_write_headers(opts, h, "x-amz-meta-");
    HttpResponse resp = send("PUT", key, {}, std::move(h), &body);
    if (resp.status != 200) fail(resp, "store", key);
    return stored_from_headers(resp);
}

void S3Store::remove(const std::string& key) {
    HttpResponse resp = send("DELETE", key, {}, {}, nullptr);
    if (resp.status == 204 || resp.status == 200) return;
    if (resp.status == 404 && xml_first_text(resp.body, "Code") != "NoSuchBucket") return;
    fail(resp, "delete", key);
}

std::optional<std::string> S3Store::replace_metadata(const std::string& key, const WriteOptions& opts) {
    HeaderList h;
    add_write_headers(opts, h, "x-amz-meta-");
    h.emplace_back("x-amz-copy-source", "/" + uri_encode(where_.bucket) + "/" + uri_encode(key, true));
    h.emplace_back("x-amz-metadata-directive", "REPLACE");
    h.emplace_back("Content-Length", "0");
    HttpResponse resp = send("PUT", key, {}, std::move(h), nullptr);
    if (resp.status == 404 && xml_first_text(resp.body, "Code") != "NoSuchBucket") return std::nullopt;
    if (resp.status != 200 || !xml_first_text(resp.body, "Code").empty()) fail(resp, "update metadata of", key);
    return xml_first_text(resp.body, "ETag");
}

ListPage S3Store::list(const ListRequest& lr) {
    std::vector<std::pair<std::string, std::string>> q{{"encoding-type", "url"},
                                                       {"max-keys", std::to_string(lr.max_keys)}};
    if (!lr.prefix.empty()) q.emplace_back("prefix", lr.prefix);
    if (!lr.delimiter.empty()) q.emplace_back("delimiter", lr.delimiter);
    if (!lr.marker.empty()) q.emplace_back("marker", lr.marker);
    HttpResponse resp = send("GET", "", q, {}, nullptr);
    if (resp.status == 404 && where_.side == "remote" && xml_first_text(resp.body, "Code") == "NoSuchBucket")
        return {};   // the on-prem container does not exist (yet): it contributes nothing
    if (resp.status != 200) fail(resp, "list");
    try {
        return parse_list_page(resp.body);
    } catch (const std::exception& e) {
        throw unavailable(where_.side + " store sent a listing that could not be parsed: " + e.what());
    }
}

namespace {
// A small in-memory body (multipart completion documents).
class StringBody : public BodySource {
public:
    explicit StringBody(std::string data) : data_(std::move(data)) {}
    std::size_t read(char* buf, std::size_t len) override {
        std::size_t n = std::min(len, data_.size() - pos_);
        std::copy_n(data_.data() + pos_, n, buf);
        pos_ += n;
        return n;
    }
    std::uint64_t length() const override { return data_.size(); }
private:
    std::string data_;
    std::size_t pos_ = 0;
};

}  // namespace

std::string S3Store::create_upload(const std::string& key, const WriteOptions& opts) {
    HeaderList h;
    add_write_headers(opts, h, "x-amz-meta-");
    HttpResponse resp = send("POST", key, {{"uploads", ""}}, std::move(h), nullptr);
    std::string id = xml_first_text(resp.body, "UploadId");
    if (resp.status != 200 || id.empty()) fail(resp, "start a multipart upload of", key);
    return id;
}

std::string S3Store::upload_part(const std::string& key, const std::string& upload_id, int part_number,
                                 BodySource& body, const std::string& content_md5) {
    HeaderList h;
    if (!content_md5.empty()) h.emplace_back("Content-MD5", content_md5);
    HttpResponse resp = send("PUT", key, {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}},
                             std::move(h), &body);
    if (resp.status != 200) fail(resp, "store part " + std::to_string(part_number) + " of", key);
    const auto* etag = resp.header("etag");
    return etag ? *etag : std::string();
}

std::string S3Store::complete_upload(const std::string& key, const std::string& upload_id,
                                     const std::vector<PartInfo>& parts) {
    std::string doc = "<CompleteMultipartUpload>";
    for (const auto& p : parts)
        doc += "<Part><PartNumber>" + std::to_string(p.number) + "</PartNumber><ETag>" + xml_escape(p.etag) +
               "</ETag></Part>";
    doc += "</CompleteMultipartUpload>";
    StringBody body(std::move(doc));
    HttpResponse resp = send("POST", key, {{"uploadId", upload_id}}, {{"Content-Type", "application/xml"}}, &body);
    // S3 may answer 200 and still report an error in the body.
    if (resp.status != 200 || !xml_first_text(resp.body, "Code").empty()) {
        if (resp.status == 200) resp.status = 400;
        fail(resp, "complete the multipart upload of", key);
    }
    return xml_first_text(resp.body, "ETag");
}

void S3Store::abort_upload(const std::string& key, const std::string& upload_id) {
    HttpResponse resp = send("DELETE", key, {{"uploadId", upload_id}}, {}, nullptr);
    if (resp.status != 204 && resp.status != 200) fail(resp, "abort the multipart upload of", key);
}

PartsPage S3Store::list_parts(const std::string& key, const std::string& upload_id, int part_marker, int max_parts) {
    std::vector<std::pair<std::string, std::string>> q{{"uploadId", upload_id}, {"max-parts", std::to_string(max_parts)}};
    if (part_marker > 0) q.emplace_back("part-number-marker", std::to_string(part_marker));
    HttpResponse resp = send("GET", key, q, {}, nullptr);
    if (resp.status != 200) fail(resp, "list the parts of", key);
    try {
        return parse_parts_page(resp.body);
    } catch (const std::exception& e) {
        throw unavailable(where_.side + " store sent a part listing that could not be parsed: " + e.what());
    }
}

UploadsPage S3Store::list_uploads(const UploadsRequest& r) {
    std::vector<std::pair<std::string, std::string>> q{{"uploads", ""}, {"max-uploads", std::to_string(r.max_uploads)}};
    if (!r.prefix.empty()) q.emplace_back("prefix", r.prefix);
    if (!r.delimiter.empty()) q.emplace_back("delimiter", r.delimiter);
    if (!r.key_marker.empty()) q.emplace_back("key-marker", r.key_marker);
    if (!r.upload_id_marker.empty()) q.emplace_back("upload-id-marker", r.upload_id_marker);
    HttpResponse resp = send("GET", "", q, {}, nullptr);
    if (resp.status != 200) fail(resp, "list multipart uploads");
    try {
        return parse_uploads_page(resp.body);
    } catch (const std::exception& e) {
        throw unavailable(where_.side + " store sent an upload listing that could not be parsed: " + e.what());
    }
}

std::vector<S3Store::Bucket> S3Store::list_buckets() {
    HttpResponse resp = perform("GET", "/", {}, {}, nullptr);   // the service itself: no bucket in the path
    if (resp.status != 200) fail(resp, "list buckets");
    std::vector<Bucket> buckets;
    std::string_view body = resp.body;
    for (auto pos = body.find("<Bucket>"); pos != std::string_view::npos; pos = body.find("<Bucket>", pos)) {
        pos += 8;
        const std::string_view one = body.substr(pos, body.find("</Bucket>", pos) - pos);
        buckets.push_back({xml_first_text(one, "Name"), parse_iso8601(xml_first_text(one, "CreationDate")).value_or(0)});
    }
    return buckets;
}

bool S3Store::bucket_exists() {
    HttpResponse resp = send("HEAD", "", {}, {}, nullptr);
    if (resp.status == 200) return true;
    if (resp.status == 404) return false;
    fail(resp, "check the bucket");
}

}  // namespace cc
