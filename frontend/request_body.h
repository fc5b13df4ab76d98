// The client's request body as a BodySource: exactly Content-Length bytes,
// with the digests the client declared (Content-MD5, x-amz-content-sha256)
// checked before the last byte is handed on, so a bad body never becomes an
// object: the backend upload is aborted instead of completed.
#pragma once
#include <istream>
#include <optional>
#include <string>

#include "common/crypto.h"
#include "storage/object_store.h"

namespace cc {

class RequestBody : public BodySource {
public:
    // expected_md5: raw 16 bytes or empty; expected_sha256_hex: hex or empty.
    RequestBody(std::istream& in, std::uint64_t length, std::string expected_md5, std::string expected_sha256_hex);
    std::size_t read(char* buf, std::size_t len) override;
    std::uint64_t length() const override { return length_; }
    bool complete() const { return done_ == length_; }
    std::string md5_raw() const { return md5_result_; }   // after complete()

private:
    void verify();
    std::istream& in_;
    std::uint64_t length_, done_ = 0;
    bool verified_ = false;
    std::string expected_md5_, expected_sha256_;
    Digest md5_{"md5"};
    std::optional<Digest> sha256_;
    std::string md5_result_;
};

}  // namespace cc
