#include "frontend/request_body.h"

#include <Poco/Exception.h>

#include <algorithm>

#include "common/s3error.h"

namespace cc {

RequestBody::RequestBody(std::istream& in, BodySpec spec) : in_(in), spec_(std::move(spec)) {
    // MD5 only when the client declared one: the store computes the ETag anyway,
    // and hashing every byte twice is most of a large upload's CPU.
    if (!spec_.md5.empty()) md5_.emplace("md5");
    if (!spec_.sha256.empty()) sha256_.emplace("sha256");
    if (!spec_.checksum_algorithm.empty()) checksum_ = Checksum::make(spec_.checksum_algorithm);
    if (spec_.aws_chunked) chunks_ = std::make_unique<AwsChunkDecoder>(in_, spec_.signer ? &*spec_.signer : nullptr);
}

RequestBody::RequestBody(std::istream& in, std::uint64_t length, std::string expected_md5,
                         std::string expected_sha256_hex)
    : RequestBody(in, BodySpec{length, std::move(expected_md5), std::move(expected_sha256_hex), "", "", false, {}}) {}

std::size_t RequestBody::read(char* buf, std::size_t len) {
    if (done_ == spec_.length) {
        if (!verified_) verify();   // an empty body is checked too
        return 0;
    }
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(len, spec_.length - done_));
    std::size_t got = 0;
    if (chunks_) {
        got = chunks_->read(buf, want);
    } else {
        try {
            in_.read(buf, static_cast<std::streamsize>(want));
            got = static_cast<std::size_t>(in_.gcount());
        } catch (const Poco::Exception&) {
            got = 0;   // timeout or reset: treated as a body cut short
        }
    }
    if (got == 0)
        throw S3Error(400, "IncompleteBody",
                      "You did not provide the number of bytes specified by the " +
                          std::string(chunks_ ? "x-amz-decoded-content-length" : "Content-Length") +
                          " HTTP header (got " + std::to_string(done_) + " of " + std::to_string(spec_.length) + ")");
    if (md5_) md5_->update(buf, got);
    if (sha256_) sha256_->update(buf, got);
    if (checksum_) checksum_->update(buf, got);
    done_ += got;
    if (done_ == spec_.length) verify();   // before the backend sees the last byte
    return got;
}

void RequestBody::expect_all_taken() const {
    if (!verified_)
        throw S3Error(503, "ServiceUnavailable",
                      "The local store acknowledged the upload before it had received the whole body (" +
                          std::to_string(done_) + " of " + std::to_string(spec_.length) +
                          " bytes), so the object was not stored as sent. Please retry.");
}

void RequestBody::verify() {
    if (chunks_) chunks_->finish();   // final chunk signature and trailers
    if (md5_) md5_result_ = md5_->finish();
    if (!spec_.md5.empty() && !constant_time_equal(md5_result_, spec_.md5))
        throw S3Error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
    if (sha256_) {
        std::string got = to_hex(sha256_->finish());
        if (got != spec_.sha256)
            throw S3Error(400, "XAmzContentSHA256Mismatch",
                          "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    if (checksum_) {
        std::string expected = spec_.checksum_value;
        const std::string name = "x-amz-checksum-" + spec_.checksum_algorithm;
        if (expected.empty() && chunks_) {
            auto it = chunks_->trailers().find(name);
            if (it == chunks_->trailers().end())
                throw S3Error(400, "InvalidRequest", "The trailer " + name + " announced in x-amz-trailer is missing");
            expected = it->second;
        }
        if (checksum_->base64() != expected)
            throw S3Error(400, "BadDigest", "The " + name + " you specified did not match the calculated checksum.");
    }
    verified_ = true;
}

}  // namespace cc
