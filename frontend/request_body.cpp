#include "frontend/request_body.h"

#include <Poco/Exception.h>

#include <algorithm>

#include "common/s3error.h"

namespace cc {

RequestBody::RequestBody(std::istream& in, std::uint64_t length, std::string expected_md5,
                         std::string expected_sha256_hex)
    : in_(in), length_(length), expected_md5_(std::move(expected_md5)), expected_sha256_(std::move(expected_sha256_hex)) {
    if (!expected_sha256_.empty()) sha256_.emplace("sha256");
}

std::size_t RequestBody::read(char* buf, std::size_t len) {
    if (done_ == length_) {
        if (!verified_) verify();   // an empty body is checked too
        return 0;
    }
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(len, length_ - done_));
    std::size_t got = 0;
    try {
        in_.read(buf, static_cast<std::streamsize>(want));
        got = static_cast<std::size_t>(in_.gcount());
    } catch (const Poco::Exception&) {
        got = 0;   // timeout or reset: treated as a body cut short
    }
    if (got == 0)
        throw S3Error(400, "IncompleteBody",
                      "You did not provide the number of bytes specified by the Content-Length HTTP header (got " +
                          std::to_string(done_) + " of " + std::to_string(length_) + ")");
    md5_.update(buf, got);
    if (sha256_) sha256_->update(buf, got);
    done_ += got;
    if (done_ == length_) verify();   // before the backend sees the last byte
    return got;
}

void RequestBody::verify() {
    verified_ = true;
    md5_result_ = md5_.finish();
    if (!expected_md5_.empty() && !constant_time_equal(md5_result_, expected_md5_))
        throw S3Error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
    if (sha256_) {
        std::string got = to_hex(sha256_->finish());
        if (got != expected_sha256_)
            throw S3Error(400, "XAmzContentSHA256Mismatch",
                          "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
}

}  // namespace cc
