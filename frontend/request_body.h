// The client's request body as a BodySource: exactly the object's bytes
// (aws-chunked framing removed), with every digest the client declared
// (Content-MD5, x-amz-content-sha256, x-amz-checksum-* as header or trailer,
// chunk signatures) checked before the last byte is handed on, so a bad body
// never becomes an object: the backend upload is aborted instead of completed.
#pragma once
#include <istream>
#include <memory>
#include <optional>
#include <string>

#include "common/checksum.h"
#include "common/crypto.h"
#include "frontend/aws_chunked.h"
#include "storage/object_store.h"

namespace cc {

// What the client declared about its body.
struct BodySpec {
    std::uint64_t length = 0;          // the object's (decoded) size
    std::string md5;                   // raw Content-MD5, or empty
    std::string sha256;                // hex x-amz-content-sha256 of the whole body, or empty
    std::string checksum_algorithm;    // crc32|crc32c|crc64nvme|sha1|sha256, or empty
    std::string checksum_value;        // base64 from the header; empty when it comes as a trailer
    bool aws_chunked = false;          // the body is aws-chunked framed
    std::optional<ChunkSigner> signer; // chunk signatures to verify (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)
};

class RequestBody : public BodySource {
public:
    RequestBody(std::istream& in, BodySpec spec);
    // Convenience for plain bodies: expected_md5 raw or empty, expected_sha256_hex or empty.
    RequestBody(std::istream& in, std::uint64_t length, std::string expected_md5, std::string expected_sha256_hex);
    std::size_t read(char* buf, std::size_t len) override;
    std::uint64_t length() const override { return spec_.length; }
    bool complete() const { return verified_; }
    // After a store accepted the upload: throws 503 unless it took the whole body.
    // A backend that answers before it has read the body (Swift accepts a PUT that
    // loses a same-timestamp race without reading it) did not store what was sent,
    // and the unread rest must not be taken for the client's next request.
    void expect_all_taken() const;
    // After complete(), and only when the client sent Content-MD5 (else empty).
    std::string md5_raw() const { return md5_result_; }

private:
    void verify();
    std::istream& in_;
    BodySpec spec_;
    std::uint64_t done_ = 0;
    bool verified_ = false;
    std::optional<Digest> md5_;
    std::optional<Digest> sha256_;
    std::unique_ptr<Checksum> checksum_;
    std::unique_ptr<AwsChunkDecoder> chunks_;
    std::string md5_result_;
};

}  // namespace cc
