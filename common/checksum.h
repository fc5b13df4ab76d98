// The additional checksums S3 clients send (x-amz-checksum-crc32, -crc32c,
// -crc64nvme, -sha1, -sha256), computed incrementally and compared in base64, as S3 does.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace cc {

std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t len);    // IEEE 802.3
std::uint32_t crc32c_update(std::uint32_t crc, const void* data, std::size_t len);   // Castagnoli
std::uint64_t crc64nvme_update(std::uint64_t crc, const void* data, std::size_t len);   // CRC-64/NVME

class Checksum {
public:
    // algorithm: "crc32", "crc32c", "crc64nvme", "sha1" or "sha256" (the x-amz-checksum-* suffix);
    // returns nullptr for anything else.
    static std::unique_ptr<Checksum> make(std::string_view algorithm);
    virtual ~Checksum() = default;
    virtual void update(const void* data, std::size_t len) = 0;
    virtual std::string base64() = 0;   // final value, base64 of the big-endian bytes
};

}  // namespace cc
