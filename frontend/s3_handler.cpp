#include "frontend/s3_handler.h"

#include <chrono>
#include <random>
#include <sstream>

#include "common/crypto.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/request_context.h"
#include "common/s3error.h"
#include "frontend/authenticator.h"
#include "frontend/body_stream.h"
#include "frontend/operator_endpoints.h"
#include "frontend/operations.h"
#include "frontend/responses.h"
#include "frontend/s3_request.h"

namespace cc {
namespace {

std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') { out += '\\'; out += static_cast<char>(c); }
        else if (c < 0x20 || c == 0x7f) { char buf[8]; std::snprintf(buf, sizeof buf, "\\x%02x", c); out += buf; }
        else out += static_cast<char>(c);
    }
    return out + "\"";
}

// After an error, a body the client sent but we never read would be parsed as
// the next request. A small one that has arrived whole is drained and the
// connection kept; otherwise the connection closes, and its lingering close,
// which waits for the client without a thread (ConnectionScheduler), takes in
// the rest. Never wait for the client here: a thread held by a client that
// sends a refused body slowly would be a thread lost to anyone without
// credentials.
void settle_unread_body(S3Request* req, Poco::Net::HTTPServerRequest& http, Poco::Net::HTTPServerResponse& resp) {
    if (ambiguous_framing(http)) {   // no draining: where the body ends is the question
        resp.setKeepAlive(false);
        return;
    }
    // A body read to its end (also one refused after its last byte, as a bad digest) leaves
    // the connection in step.
    if (req && (req->body_consumed || req->body_read_to_end())) return;
    const bool has_body = http.getChunkedTransferEncoding() || (http.hasContentLength() && http.getContentLength64() > 0);
    if (!has_body) return;
    SessionReader* session = session_of(http);
    const bool untouched = !req || !req->body_opened();
    if (session && untouched && !http.getExpectContinue() && http.hasContentLength() &&
        http.getContentLength64() <= 64 * 1024 &&
        session->arrived() >= static_cast<std::size_t>(http.getContentLength64())) {
        char buf[8192];
        auto& in = req ? req->body() : http.stream();
        while (in.read(buf, sizeof buf) || in.gcount() > 0) {}
        return;
    }
    resp.setKeepAlive(false);
}

// The store stack of the request's bucket. A CreateBucket for a bucket no
// mapping covers is refused (403) rather than "not found".
BucketRoute resolve(Gateway& gateway, const User& user, const S3Request& req, const std::string& op) {
    try {
        return gateway.open_bucket(user, req.bucket);
    } catch (const S3Error& e) {
        if (op != "CreateBucket" || e.code() != "NoSuchBucket") throw;
        throw S3Error(403, "AccessDenied",
                      "Buckets are the on-prem cluster's containers: cloud-connector cannot create them");
    }
}

}  // namespace

std::string new_request_id() {
    thread_local std::mt19937_64 rng(std::random_device{}());
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llX", static_cast<unsigned long long>(rng()));
    return buf;
}

std::string host_id() {
    static const std::string id = base64_encode(sha256(new_request_id() + new_request_id()));
    return id;
}

void S3Handler::handle(Poco::Net::HTTPServerRequest& http, Poco::Net::HTTPServerResponse& resp) {
    const auto started = std::chrono::steady_clock::now();
    const std::string id = new_request_id();
    RequestIdScope request_scope(id);   // backend requests carry it too
    resp.set("x-amz-request-id", id);
    resp.set("x-amz-id-2", host_id());
    resp.set("Server", "cloud-connector");
    if (serve_operator_endpoint(http, resp)) {   // probes and scrapes: no auth, no access line
        settle_unread_body(nullptr, http, resp);
        return;
    }

    std::optional<S3Request> req;
    std::optional<Identity> who;
    std::string op = "-";
    std::string side = "-";
    std::uint64_t bytes_out = 0, bytes_in = 0;
    bool bypassed_poco = false;   // a download wrote its response straight to the socket
    try {
        req = parse_request(http, id, gateway_.settings().storage_domains);  // 1. parse
        auto snapshot = gateway_.snapshot();
        if (!snapshot)
            throw unavailable("cloud-connector is starting: the user database and mapping are not loaded yet");
        who = authenticate(*req, snapshot->users, gateway_.settings(), std::time(nullptr));   // 2. authenticate
        op = classify(*req);                                                         // 3. which operation
        auto open_other = [&](const std::string& bucket) { return gateway_.open_bucket(who->user, bucket).store; };
        OperationContext ctx{*req, *who, resp, open_other, {}, 0, 0, &bypassed_poco};
        if (op == "ListBuckets") {
            list_buckets(ctx, gateway_);
        } else {
            BucketRoute route = resolve(gateway_, who->user, *req, op);              // 4. resolve the mapping
            ObjectStore& store = *route.store;                                       // 5. the store stack
            if (op == "GetObject") get_object(ctx, store);
            else if (op == "HeadObject") head_object(ctx, store);
            else if (op == "PutObject") put_object(ctx, store);
            else if (op == "CopyObject") copy_object(ctx, store);
            else if (op == "DeleteObject") delete_object(ctx, store);
            else if (op == "ListObjects" || op == "ListObjectsV2")
                list_objects(ctx, store, [&] { return gateway_.bucket_exists(who->user, route); });
            else if (op == "HeadBucket") head_bucket(ctx, gateway_.bucket_exists(who->user, route));
            else if (op == "CreateBucket") create_bucket(ctx, gateway_.bucket_exists(who->user, route));
            else if (op == "GetObjectTagging") get_object_tagging(ctx, store);
            else if (op == "GetBucketLocation") get_bucket_location(ctx, gateway_.settings());
            else if (op == "CreateMultipartUpload") create_multipart_upload(ctx, store);
            else if (op == "UploadPart") upload_part(ctx, store);
            else if (op == "UploadPartCopy") upload_part_copy(ctx, store);
            else if (op == "CompleteMultipartUpload") complete_multipart_upload(ctx, store);
            else if (op == "AbortMultipartUpload") abort_multipart_upload(ctx, store);
            else if (op == "ListParts") list_parts(ctx, store);
            else if (op == "ListMultipartUploads") list_multipart_uploads(ctx, store);
            else if (op == "DeleteObjects") delete_objects(ctx, store);
            else throw S3Error(501, "NotImplemented", op + " is not implemented by cloud-connector yet");
        }
        // A body the operation did not read (a GET or DELETE with one) must not be
        // taken for the next request on this connection: drained, or the connection closes.
        settle_unread_body(&*req, http, resp);
        side = ctx.answered_by.empty() ? "-" : ctx.answered_by;
        bytes_out = ctx.bytes_out;
        bytes_in = ctx.bytes_in;
    } catch (const S3Error& e) {
        if (resp.sent() || bypassed_poco) {
            log::error("request ", id, " failed after the response started: ", for_log(e));
            throw;   // the connection is dropped: the client sees a short body, never a wrong one
        }
        if (e.status() >= 500) log::warning("request ", id, ": ", e.code(), ": ", for_log(e));
        settle_unread_body(req ? &*req : nullptr, http, resp);
        send_error(resp, e, id, req ? req->resource() : http.getURI(), http.getMethod() == "HEAD");
    } catch (const std::exception& e) {
        log::error("request ", id, " failed: ", for_log(e));
        if (resp.sent() || bypassed_poco) throw;
        settle_unread_body(req ? &*req : nullptr, http, resp);
        send_error(resp, internal_error("We encountered an internal error. Please try again."), id,
                   req ? req->resource() : http.getURI(), http.getMethod() == "HEAD");
    }

    const int status = static_cast<int>(resp.getStatus());
    metrics::add("cc_requests_total", {{"op", op}, {"status", std::to_string(status)}});
    metrics::observe("cc_request_duration_seconds", {{"op", op}},
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (bytes_in) metrics::add("cc_bytes_in_total", {}, static_cast<double>(bytes_in));
    if (bytes_out) metrics::add("cc_bytes_out_total", {}, static_cast<double>(bytes_out));
    if ((op == "GetObject" || op == "HeadObject") && (side == "local" || side == "remote"))
        metrics::add("cc_answered_by_total", {{"side", side}});

    // One access-log line per request; never secrets or signatures.
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    log::info("access id=", id, " client=", http.clientAddress().host().toString(),
              " user=", quoted(who ? who->user.access_key : "-"), " op=", op,
              " bucket=", quoted(req ? req->bucket : ""), " key=", quoted(req ? req->key : ""),
              " status=", status, " bytes_in=", bytes_in, " bytes_out=", bytes_out,
              " ms=", ms, " side=", side);
}

}  // namespace cc
