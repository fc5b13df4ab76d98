// Hashes, MACs and encodings over OpenSSL. Everything returns raw bytes in
// std::string unless the name says _hex / base64.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace cc {

std::string sha256(std::string_view data);                 // 32 raw bytes
std::string sha256_hex(std::string_view data);             // 64 lower-case hex chars
std::string md5(std::string_view data);                    // 16 raw bytes
std::string md5_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw
std::string hmac_sha1(std::string_view key, std::string_view data);    // raw (SigV2)

std::string to_hex(std::string_view raw);                  // lower-case
std::string base64_encode(std::string_view raw);
// Strict: returns false on any character outside the alphabet or bad padding.
bool base64_decode(std::string_view text, std::string& out);

// Compares two strings in time that depends only on their lengths, never on
// where they first differ (signature checks must not leak a prefix match).
bool constant_time_equal(std::string_view a, std::string_view b);

// Incremental digest for streamed bodies ("md5", "sha256", "sha1").
class Digest {
public:
    explicit Digest(const char* algorithm);
    ~Digest();
    Digest(const Digest&) = delete;
    Digest& operator=(const Digest&) = delete;
    void update(const void* data, std::size_t len);
    std::string finish();      // raw bytes; the object is spent afterwards
private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace cc
