#include "frontend/operations.h"

#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/String.h>
#include <Poco/StringTokenizer.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "common/crypto.h"
#include "common/timefmt.h"
#include "common/uri.h"
#include "engine/copy_through.h"
#include "frontend/request_body.h"
#include "frontend/responses.h"

namespace cc {
namespace {

constexpr std::uint64_t kMaxPutSize = 5ull << 30;   // S3's single-PUT limit

S3Error not_implemented(const std::string& what) {
    return S3Error(501, "NotImplemented", what + " is not implemented by cloud-connector");
}

S3Error no_such_bucket(const std::string& bucket) {
    S3Error e(404, "NoSuchBucket", "The specified bucket does not exist");
    e.detail_name = "BucketName";
    e.detail_value = bucket;
    return e;
}

S3Error no_such_key(const std::string& key) {
    S3Error e(404, "NoSuchKey", "The specified key does not exist.");
    e.detail_name = "Key";
    e.detail_value = key;
    return e;
}

// Sub-resources naming S3 operations this gateway does not offer (yet).
const std::set<std::string, std::less<>> kUnsupported = {
    "accelerate", "acl", "analytics", "attributes", "cors", "encryption", "intelligent-tiering", "inventory",
    "legal-hold", "lifecycle", "logging", "metrics", "notification", "object-lock", "ownershipControls",
    "policy", "policyStatus", "publicAccessBlock", "replication", "requestPayment", "restore", "retention",
    "select", "tagging", "torrent", "versioning", "versions", "website", "versionId"};


// A value that can go into a response header as it is: no control characters
// (CR or LF would end the header and let the rest become headers or body).
bool header_safe(std::string_view v) {
    return std::none_of(v.begin(), v.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && c != '\t') || u == 0x7f;
    });
}

void set_object_headers(Poco::Net::HTTPServerResponse& resp, const ObjectInfo& info) {
    if (!info.etag.empty()) resp.set("ETag", info.etag);
    if (info.last_modified) resp.set("Last-Modified", http_date(info.last_modified));
    // Metadata decoded from RFC 2047 may hold control characters: those values go
    // out encoded again (as S3 does), never raw.
    for (const auto& [k, v] : info.user_meta)
        resp.set("x-amz-meta-" + k, header_safe(v) ? v : "=?UTF-8?B?" + base64_encode(v) + "?=");
    for (const auto& [k, v] : info.headers)
        if (header_safe(v)) resp.set(k, v);
}

constexpr std::pair<const char*, const char*> kOverrides[] = {
    {"response-content-type", "Content-Type"},         {"response-content-language", "Content-Language"},
    {"response-expires", "Expires"},                   {"response-cache-control", "Cache-Control"},
    {"response-content-disposition", "Content-Disposition"}, {"response-content-encoding", "Content-Encoding"}};

// Checked before the store is asked: a response-* value becomes a header verbatim.
void check_response_overrides(const S3Request& req) {
    for (const auto& [param, header] : kOverrides)
        if (const QueryParam* p = req.param(param); p && !header_safe(p->value))
            throw S3Error(400, "InvalidArgument", std::string(param) + " must not contain control characters");
}

void apply_response_overrides(const S3Request& req, Poco::Net::HTTPServerResponse& resp) {
    for (const auto& [param, header] : kOverrides)
        if (const QueryParam* p = req.param(param)) resp.set(header, p->value);
}

ReadOptions read_options(const S3Request& req) {
    ReadOptions o;
    o.range = req.header("Range");
    // S3 serves one range per request; with several it answers the whole object.
    if (o.range.find(',') != std::string::npos) o.range.clear();
    o.if_match = req.header("If-Match");
    o.if_none_match = req.header("If-None-Match");
    o.if_modified_since = req.header("If-Modified-Since");
    o.if_unmodified_since = req.header("If-Unmodified-Since");
    return o;
}

// The status and headers of a successful GET or HEAD (200 or 206).
void set_read_headers(OperationContext& ctx, const ReadResult& r) {
    auto& resp = ctx.resp;
    resp.setStatusAndReason(r.status == ReadResult::Status::Partial ? Poco::Net::HTTPResponse::HTTP_PARTIAL_CONTENT
                                                           : Poco::Net::HTTPResponse::HTTP_OK);
    set_object_headers(resp, r.info);
    resp.setContentType(r.info.content_type.empty() ? "binary/octet-stream" : r.info.content_type);
    if (!r.content_range.empty()) resp.set("Content-Range", r.content_range);
    resp.set("Accept-Ranges", "bytes");
    apply_response_overrides(ctx.req, resp);
    resp.setContentLength64(static_cast<Poco::Int64>(r.content_length));
}

// Streams the object into the client's response once the store has its head.
//
// Poco's response stream writes in 4 KiB pieces (one send() each) and sends
// the header block on its own. Instead nothing is written until the first
// piece of the body arrives; the header block then goes out with it (one
// send() for a small object), and the body straight to the socket in the
// store's pieces, with the same Content-Length framing. Until then the
// response is untouched, so a store failing before its first bytes is still
// answered with a proper error (503) rather than a dropped connection.
class ResponseSink : public BodySink {
public:
    ResponseSink(OperationContext& ctx) : ctx_(ctx) {}
    void begin(const ReadResult& head) override {
        head_ = head;
        ctx_.answered_by = head.answered_by;
        auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(ctx_.req.http);
        if (impl && ctx_.bypassed_poco) {
            socket_ = &impl->socket();
            if (head.content_length == 0) send_header_with("", 0);
            return;
        }
        set_headers();
        out_ = &ctx_.resp.send();
    }
    void write(const char* data, std::size_t len) override {
        if (!socket_) {
            out_->write(data, static_cast<std::streamsize>(len));
            if (!*out_) throw std::runtime_error("client connection closed during the download");
        } else if (!header_sent_ && len <= kWithHeader) {
            send_header_with(data, len);
        } else {
            if (!header_sent_) send_header_with("", 0);
            send_all(data, len);
        }
        ctx_.bytes_out += len;
    }
    // After the store returned: a header block still waiting (a body the store
    // never wrote) goes out, so the client is not left waiting.
    void finish() {
        if (socket_ && !header_sent_) send_header_with("", 0);
    }

private:
    static constexpr std::size_t kWithHeader = 64 * 1024;

    void set_headers() { set_read_headers(ctx_, head_); }
    void send_header_with(const char* data, std::size_t len) {
        set_headers();
        std::ostringstream header;
        ctx_.resp.write(header);
        std::string out = header.str();
        out.append(data, len);
        *ctx_.bypassed_poco = true;   // from here on an error can only drop the connection
        header_sent_ = true;
        send_all(out.data(), out.size());
    }
    void send_all(const char* data, std::size_t len) {
        for (std::size_t done = 0; done < len;) {
            const int n = socket_->sendBytes(data + done, static_cast<int>(std::min<std::size_t>(len - done, 1 << 30)));
            if (n <= 0) throw std::runtime_error("client connection closed during the download");
            done += static_cast<std::size_t>(n);
        }
    }

    OperationContext& ctx_;
    ReadResult head_;
    std::ostream* out_ = nullptr;
    Poco::Net::StreamSocket* socket_ = nullptr;
    bool header_sent_ = false;
};

// The non-streamed outcomes of a GET or HEAD.
void answer_read_status(OperationContext& ctx, const ReadResult& r) {
    using S = ReadResult::Status;
    auto& resp = ctx.resp;
    ctx.answered_by = r.answered_by;
    switch (r.status) {
        case S::Ok:
        case S::Partial:
            return;
        case S::NotFound:
            throw no_such_key(ctx.req.key);
        case S::NotModified:
            set_object_headers(resp, r.info);
            resp.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_NOT_MODIFIED);
            resp.send();
            return;
        case S::PreconditionFailed: {
            S3Error e(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
            e.detail_name = "Condition";
            throw e;
        }
        case S::RangeNotSatisfiable: {
            if (!r.content_range.empty()) resp.set("Content-Range", r.content_range);
            S3Error e(416, "InvalidRange", "The requested range is not satisfiable");
            e.detail_name = "RangeRequested";
            e.detail_value = ctx.req.header("Range");
            throw e;
        }
    }
}

}  // namespace

WriteOptions write_options(const S3Request& req) {
    WriteOptions w;
    w.content_type = req.header("Content-Type");
    for (const auto& [name, value] : *req.http) {
        std::string lower = Poco::toLower(name);
        if (lower.rfind("x-amz-meta-", 0) == 0) w.user_meta.emplace_back(lower.substr(11), value);
        else if (lower == "content-encoding") {
            // aws-chunked is the transfer framing, not the object's encoding.
            std::string kept;
            for (const auto& token : Poco::StringTokenizer(value, ",", Poco::StringTokenizer::TOK_TRIM |
                                                                           Poco::StringTokenizer::TOK_IGNORE_EMPTY))
                if (Poco::icompare(token, "aws-chunked") != 0) kept += (kept.empty() ? "" : ",") + token;
            if (!kept.empty()) w.headers.emplace_back(lower, kept);
        } else if (lower == "cache-control" || lower == "content-disposition" ||
                 lower == "content-language" || lower == "expires")
            w.headers.emplace_back(lower, value);
    }
    return w;
}

namespace {

std::string checked_content_md5(const S3Request& req) {
    if (!req.has_header("Content-MD5")) return {};
    std::string raw;
    if (!base64_decode(req.header("Content-MD5"), raw) || raw.size() != 16)
        throw S3Error(400, "InvalidDigest", "The Content-MD5 you specified is not valid.");
    return raw;
}

int parse_max_keys(const S3Request& req) {
    if (!req.has("max-keys")) return 1000;
    const std::string v = req.value("max-keys");
    char* end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end || n < 0) {
        S3Error e(400, "InvalidArgument", "Provided max-keys not an integer or within integer range");
        e.detail_name = "ArgumentName";
        e.detail_value = "max-keys";
        throw e;
    }
    return static_cast<int>(std::min(n, 1000L));
}

}  // namespace

std::string classify(const S3Request& req) {
    // Tools read an object's tags before copying it (aws-cli's --copy-props): an
    // empty tag set is the true answer, since tags cannot be stored here.
    if (req.method == "GET" && !req.key.empty() && req.has("tagging") && req.query.size() == 1) return "GetObjectTagging";
    for (const auto& p : req.query) {
        if (kUnsupported.count(p.name)) throw not_implemented("The '" + p.name + "' sub-resource");
    }
    const std::string& m = req.method;
    if (req.bucket.empty()) {
        if (m == "GET") return "ListBuckets";
        throw S3Error(405, "MethodNotAllowed", "The specified method is not allowed against the service root");
    }
    if (req.key.empty()) {
        if (m == "GET" && req.has("uploads")) return "ListMultipartUploads";
        if (m == "POST" && req.has("delete")) return "DeleteObjects";
        if (m == "GET") return req.has("location") ? "GetBucketLocation" : req.value("list-type") == "2" ? "ListObjectsV2" : "ListObjects";
        if (m == "HEAD") return "HeadBucket";
        if (m == "PUT") return "CreateBucket";   // answered after resolution: 409 if it is mapped, else 403
        if (m == "DELETE")
            throw S3Error(403, "AccessDenied",
                          "Buckets are the on-prem cluster's containers: cloud-connector cannot create or delete them");
        throw S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this bucket");
    }
    if (req.has("uploadId")) {
        if (m == "PUT" && req.has("partNumber"))
            return req.has_header("x-amz-copy-source") ? "UploadPartCopy" : "UploadPart";
        if (m == "POST") return "CompleteMultipartUpload";
        if (m == "DELETE") return "AbortMultipartUpload";
        if (m == "GET") return "ListParts";
    }
    if (m == "POST" && req.has("uploads")) return "CreateMultipartUpload";
    if (m == "GET") return "GetObject";
    if (m == "HEAD") return "HeadObject";
    if (m == "PUT") return req.has_header("x-amz-copy-source") ? "CopyObject" : "PutObject";
    if (m == "DELETE") return "DeleteObject";
    throw S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource");
}

void get_object(OperationContext& ctx, ObjectStore& store) {
    check_response_overrides(ctx.req);
    ResponseSink sink(ctx);
    const ReadResult r = store.get(ctx.req.key, read_options(ctx.req), sink);
    sink.finish();
    answer_read_status(ctx, r);
}

void head_object(OperationContext& ctx, ObjectStore& store) {
    check_response_overrides(ctx.req);
    ReadResult r = store.head(ctx.req.key, read_options(ctx.req));
    answer_read_status(ctx, r);
    if (r.status != ReadResult::Status::Ok && r.status != ReadResult::Status::Partial) return;
    set_read_headers(ctx, r);
    ctx.resp.send();   // a HEAD response: Poco writes the header only
}

BodySpec checked_body(OperationContext& ctx, std::uint64_t max_size) {
    S3Request& req = ctx.req;
    const std::string& payload = ctx.who.payload_hash;
    BodySpec spec;
    if (payload.rfind("STREAMING-", 0) == 0) {
        if (payload == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" || payload == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") {
            if (ctx.who.seed_signature.empty())
                throw invalid_request("Signed streaming uploads need the Authorization header (not a presigned URL)");
            spec.signer = ChunkSigner{ctx.who.signing_key, ctx.who.amz_date, ctx.who.scope, ctx.who.seed_signature};
        } else if (payload != "STREAMING-UNSIGNED-PAYLOAD-TRAILER") {
            throw not_implemented("The payload type " + payload);
        }
        spec.aws_chunked = true;
        const std::string decoded = req.header("x-amz-decoded-content-length");
        char* end = nullptr;
        spec.length = std::strtoull(decoded.c_str(), &end, 10);
        if (decoded.empty() || *end)
            throw S3Error(411, "MissingContentLength",
                          "You must provide x-amz-decoded-content-length with an aws-chunked body.");
    } else {
        if (!req.http->hasContentLength())
            throw S3Error(411, "MissingContentLength", "You must provide the Content-Length HTTP header.");
        spec.length = static_cast<std::uint64_t>(req.http->getContentLength64());
        if (payload.size() == 64) {
            if (payload.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
                throw S3Error(400, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a SHA-256 hex digest");
            spec.sha256 = Poco::toLower(payload);
        }
    }
    if (spec.length > max_size)
        throw S3Error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size (" +
                                                 std::to_string(max_size) + " bytes)");
    spec.md5 = checked_content_md5(req);
    for (const char* alg : {"crc32", "crc32c", "crc64nvme", "sha1", "sha256"}) {
        const std::string header = std::string("x-amz-checksum-") + alg;
        if (req.has_header(header)) {
            spec.checksum_algorithm = alg;
            spec.checksum_value = req.header(header);
        } else if (spec.aws_chunked && Poco::icompare(Poco::trim(req.header("x-amz-trailer")), header) == 0) {
            spec.checksum_algorithm = alg;
        }
    }
    if (spec.aws_chunked && spec.checksum_algorithm.empty() && req.has_header("x-amz-trailer"))
        throw invalid_request("Unsupported x-amz-trailer: " + req.header("x-amz-trailer"));
    return spec;
}

void put_object(OperationContext& ctx, ObjectStore& store) {
    S3Request& req = ctx.req;
    const BodySpec spec = checked_body(ctx, kMaxPutSize);
    const std::uint64_t length = spec.length;
    WriteOptions w = write_options(req);
    w.content_md5 = req.header("Content-MD5");
    if (req.http->getExpectContinue()) ctx.resp.sendContinue();   // only now: errors above answered without the body
    RequestBody body(req.body(), spec);
    // An empty body is checked (digests, the final aws-chunked chunk) before the store
    // sees it: a store may never ask for its zero bytes.
    if (spec.length == 0) body.read(nullptr, 0);
    std::string etag;
    try {
        etag = store.put(req.key, w, body).etag;
    } catch (...) {
        req.body_consumed = body.complete();
        throw;
    }
    req.body_consumed = body.complete();
    body.expect_all_taken();
    ctx.bytes_in = length;
    ctx.answered_by = "local";
    if (etag.empty() && !body.md5_raw().empty()) etag = "\"" + to_hex(body.md5_raw()) + "\"";
    if (!etag.empty()) ctx.resp.set("ETag", etag);
    ctx.resp.setContentLength(0);
    ctx.resp.send();
}

CopySourceSpec copy_source_of(const S3Request& req) {
    std::string source;
    if (!percent_decode(req.header("x-amz-copy-source"), source))
        throw invalid_request("x-amz-copy-source is not validly percent-encoded");
    if (!source.empty() && source[0] == '/') source.erase(0, 1);
    if (source.find("?versionId=") != std::string::npos) throw not_implemented("Copying a specific version");
    auto slash = source.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == source.size())
        throw S3Error(400, "InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
    CopySourceSpec spec;
    spec.bucket = source.substr(0, slash);
    spec.key = source.substr(slash + 1);
    spec.read.if_match = req.header("x-amz-copy-source-if-match");
    spec.read.if_none_match = req.header("x-amz-copy-source-if-none-match");
    spec.read.if_modified_since = req.header("x-amz-copy-source-if-modified-since");
    spec.read.if_unmodified_since = req.header("x-amz-copy-source-if-unmodified-since");
    return spec;
}

// A copy source that could not be read: S3 answers 404 NoSuchKey or 412.
void check_copy_source(const ReadResult& r, const CopySourceSpec& src) {
    using S = ReadResult::Status;
    if (r.status == S::NotFound) throw no_such_key(src.key);
    if (r.status == S::PreconditionFailed || r.status == S::NotModified)
        throw S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
    if (r.status == S::RangeNotSatisfiable)
        throw S3Error(416, "InvalidRange", "The requested range is not satisfiable");
}

void copy_object(OperationContext& ctx, ObjectStore& store) {
    S3Request& req = ctx.req;
    const CopySourceSpec src = copy_source_of(req);
    const bool replace = Poco::icompare(req.header("x-amz-metadata-directive"), "REPLACE") == 0;
    if (src.bucket == req.bucket && src.key == req.key) {
        if (!replace)
            throw invalid_request(
                "This copy request is illegal because it is trying to copy an object to itself without changing the "
                "object's metadata, storage class, website redirect location or encryption attributes.");
        // A metadata update: local copy if there is one, else the on-prem copy.
        std::optional<std::string> etag = store.replace_metadata(req.key, write_options(req));
        if (!etag) throw no_such_key(req.key);
        // LastModified as HEAD and listings will show it: the store's time of the
        // update (which it rounds its own way), not the connector's clock.
        const ReadResult after = store.head(req.key, ReadOptions{});
        send_xml(ctx.resp, 200, copy_result_xml(*etag, after.found() ? after.info.last_modified : std::time(nullptr)));
        return;
    }
    // Between keys: stream the source (local first, else on-prem) into a new local object.
    StorePtr source_store = src.bucket == req.bucket ? nullptr : ctx.open_bucket(src.bucket);
    ObjectStore& from = source_store ? *source_store : store;
    std::time_t copied_at = 0;
    CopyOutcome out = copy_through(from, src.key, src.read, [&](BodySource& body, const ReadResult& head) {
        if (head.content_length > kMaxPutSize)
            throw S3Error(400, "InvalidRequest", "The specified copy source is larger than the maximum allowable size "
                                                 "for a copy source: 5368709120; use UploadPartCopy");
        WriteOptions w;
        if (replace) {
            w = write_options(req);
        } else {
            w.content_type = head.info.content_type;
            w.user_meta = head.info.user_meta;
            w.headers = head.info.headers;
        }
        Stored written = store.put(req.key, w, body);
        copied_at = written.last_modified;
        return written.etag;
    });
    check_copy_source(out.source, src);
    ctx.answered_by = out.source.answered_by;
    // The copy's LastModified as the store will report it (HEAD, listings), when it said.
    send_xml(ctx.resp, 200, copy_result_xml(*out.written, copied_at ? copied_at : std::time(nullptr)));
}

void delete_object(OperationContext& ctx, ObjectStore& store) {
    store.remove(ctx.req.key);
    ctx.answered_by = "local";
    ctx.resp.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_NO_CONTENT);
    ctx.resp.send();
}

void list_objects(OperationContext& ctx, ObjectStore& store, const std::function<bool()>& bucket_exists) {
    const S3Request& req = ctx.req;
    ListingParams p;
    p.bucket = req.bucket;
    p.prefix = req.value("prefix");
    p.delimiter = req.value("delimiter");
    p.encoding_type = req.value("encoding-type");
    p.owner = ctx.who.user.account;
    if (req.has("encoding-type") && p.encoding_type != "url") {
        S3Error e(400, "InvalidArgument", "Invalid Encoding Method specified in Request");
        e.detail_name = "ArgumentName";
        e.detail_value = "encoding-type";
        throw e;
    }
    p.max_keys = parse_max_keys(req);
    p.v2 = req.value("list-type") == "2";
    ListRequest lr{p.prefix, p.delimiter, "", p.max_keys};
    if (p.v2) {
        p.fetch_owner = req.value("fetch-owner") == "true";
        p.start_after = req.value("start-after");
        p.continuation_token = req.value("continuation-token");
        lr.marker = p.start_after;
        if (req.has("continuation-token")) {
            std::string marker;
            if (!base64_decode(p.continuation_token, marker) || marker.rfind("cc1:", 0) != 0) {
                S3Error e(400, "InvalidArgument", "The continuation token provided is incorrect");
                e.detail_name = "ArgumentName";
                e.detail_value = "continuation-token";
                throw e;
            }
            lr.marker = std::max(lr.marker, marker.substr(4));
        }
    } else {
        p.marker = req.value("marker");
        lr.marker = p.marker;
    }
    ListPage page = store.list(lr);
    // Nothing listed in a bucket that may not exist ("/*" covers the containers the
    // on-prem cluster has): a misspelt name is NoSuchBucket, as HeadBucket says, not
    // an empty bucket; but one that holds objects (written to the cloud store) is
    // listed, whatever the prefix. Asked only for an empty first page.
    if (page.entries.empty() && !page.truncated && lr.marker.empty() && !bucket_exists() &&
        store.list(ListRequest{"", "", "", 1}).entries.empty())
        throw no_such_bucket(req.bucket);
    // Where the listing came from: live stores, the presence index, or the index
    // because a store is failing (a degraded answer rather than a 503).
    ctx.resp.set("x-cc-listing-source", page.degraded            ? "index-degraded"
                                        : page.from_index          ? "index"
                                        : page.partly_from_index   ? "mixed"
                                                                   : "live");
    if (p.v2 && page.truncated) p.next_continuation_token = base64_encode("cc1:" + page.next_marker);
    ctx.answered_by = page.from_index ? "index" : page.partly_from_index ? "mixed" : "merged";
    send_xml(ctx.resp, 200, list_objects_xml(p, page));
}

void get_object_tagging(OperationContext& ctx, ObjectStore& store) {
    if (!store.head(ctx.req.key, ReadOptions{}).found()) throw no_such_key(ctx.req.key);
    send_xml(ctx.resp, 200,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet></TagSet></Tagging>");
}

void create_bucket(OperationContext& ctx, bool exists) {
    // An existing mapped bucket is the user's: S3's answer to a repeated
    // CreateBucket. Nothing is ever created anywhere.
    if (!exists)
        throw S3Error(403, "AccessDenied",
                      "Buckets are the on-prem cluster's containers: cloud-connector cannot create them");
    S3Error e(409, "BucketAlreadyOwnedByYou",
              "Your previous request to create the named bucket succeeded and you already own it.");
    e.detail_name = "BucketName";
    e.detail_value = ctx.req.bucket;
    throw e;
}

void head_bucket(OperationContext& ctx, bool exists) {
    // The question tools ask before using a bucket (rclone, s3a, boto3 waiters): under
    // "/*" only the on-prem cluster knows the answer, so a misspelt name is a 404 here.
    if (!exists) throw no_such_bucket(ctx.req.bucket);
    ctx.resp.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
    ctx.resp.set("x-amz-bucket-region", "us-east-1");
    ctx.resp.setContentLength(0);
    ctx.resp.send();
}

void get_bucket_location(OperationContext& ctx, const Settings& settings) {
    send_xml(ctx.resp, 200, location_xml(settings.remote_region));
}

void list_buckets(OperationContext& ctx, const Gateway& gateway) {
    send_xml(ctx.resp, 200, list_buckets_xml(ctx.who.user.account, gateway.buckets_of(ctx.who.user)));
}

}  // namespace cc
