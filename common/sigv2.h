// AWS Signature Version 2 for S3 (header "AWS AK:sig" and query
// AWSAccessKeyId/Expires/Signature), still used by s3cmd and boto's s3v2.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cc::sigv2 {

struct Input {
    std::string method;
    std::string content_md5;
    std::string content_type;
    std::string date;          // Date header, or Expires for query auth; ignored if x-amz-date is among headers
    // All request headers (any case); the x-amz-* ones are canonicalised.
    std::vector<std::pair<std::string, std::string>> headers;
    // "/bucket/key" as sent on the wire (still percent-encoded), without the query.
    std::string resource_path;
    // Decoded query parameters; only S3's sub-resources are signed (acl,
    // uploads, uploadId, partNumber, response-*, delete, ... ).
    std::vector<std::pair<std::string, std::string>> query;
    bool query_auth = false;   // presigned: the date line is Expires, x-amz-date does not blank it
};

std::string string_to_sign(const Input& in);
std::string signature_base64(std::string_view secret, std::string_view string_to_sign);

}  // namespace cc::sigv2
