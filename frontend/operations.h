// Step 4 of the request path: one function per S3 operation. Each gets the
// parsed request, who is asking, and the store stack of the bucket, and
// writes the answer. Errors are thrown as S3Error and rendered by the handler.
#pragma once
#include <Poco/Net/HTTPServerResponse.h>

#include <functional>

#include "engine/gateway.h"
#include "frontend/authenticator.h"
#include "frontend/request_body.h"
#include "frontend/s3_request.h"

namespace cc {

struct OperationContext {
    S3Request& req;
    const Identity& who;
    Poco::Net::HTTPServerResponse& resp;
    // Resolves another bucket of the same user (copy sources); throws NoSuchBucket.
    std::function<StorePtr(const std::string& bucket)> open_bucket;
    std::string answered_by;   // filled by operations for the access log
    std::uint64_t bytes_out = 0, bytes_in = 0;
    // Set once a response was written past Poco (resp.sent() stays false for
    // those): an error after that point can no longer be answered.
    bool* bypassed_poco = nullptr;
};

// The source named by x-amz-copy-source (URL-decoded, leading '/' optional),
// and the conditions of x-amz-copy-source-if-* (and the range, for parts).
struct CopySourceSpec {
    std::string bucket, key;
    ReadOptions read;
};
CopySourceSpec copy_source_of(const S3Request& req);

// Which operation a request is, by method, bucket/key presence and sub-resources.
// Returns a name for logs ("GetObject", ...); throws S3Error for what is refused.
std::string classify(const S3Request& req);

// Shared request-body checks of PUT and UploadPart: Content-Length present and
// within max_size, Content-MD5 well-formed, x-amz-content-sha256 a digest or unsigned.
// (also decides the framing: plain, or aws-chunked with signed or unsigned chunks and trailers).
BodySpec checked_body(OperationContext& ctx, std::uint64_t max_size);
WriteOptions write_options(const S3Request& req);   // Content-Type, x-amz-meta-*, Cache-Control, ...

void get_object(OperationContext& ctx, ObjectStore& store);
void head_object(OperationContext& ctx, ObjectStore& store);
void put_object(OperationContext& ctx, ObjectStore& store);
void copy_object(OperationContext& ctx, ObjectStore& store);
void delete_object(OperationContext& ctx, ObjectStore& store);
// bucket_exists: asked when the page is empty (see Gateway::bucket_exists).
void list_objects(OperationContext& ctx, ObjectStore& store, const std::function<bool()>& bucket_exists);
// `exists`: under a "/*" entry, whether the on-prem cluster has the container.
void head_bucket(OperationContext& ctx, bool exists);
void create_bucket(OperationContext& ctx, bool exists);
void get_object_tagging(OperationContext& ctx, ObjectStore& store);
void get_bucket_location(OperationContext& ctx, const Settings& settings);
void list_buckets(OperationContext& ctx, const Gateway& gateway);

// frontend/multipart_ops.cpp
void create_multipart_upload(OperationContext& ctx, ObjectStore& store);
void upload_part(OperationContext& ctx, ObjectStore& store);
void complete_multipart_upload(OperationContext& ctx, ObjectStore& store);
void abort_multipart_upload(OperationContext& ctx, ObjectStore& store);
void list_parts(OperationContext& ctx, ObjectStore& store);
void list_multipart_uploads(OperationContext& ctx, ObjectStore& store);
void delete_objects(OperationContext& ctx, ObjectStore& store);
void upload_part_copy(OperationContext& ctx, ObjectStore& store);

}  // namespace cc
