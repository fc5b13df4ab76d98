#include "common/checksum.h"

#include <array>

#include "common/crypto.h"

namespace cc {
namespace {

template <std::uint32_t Poly>
const std::array<std::uint32_t, 256>& table() {
    static const std::array<std::uint32_t, 256> t = [] {
        std::array<std::uint32_t, 256> out{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? (Poly ^ (c >> 1)) : (c >> 1);
            out[i] = c;
        }
        return out;
    }();
    return t;
}

template <std::uint32_t Poly>
std::uint32_t crc_update(std::uint32_t crc, const void* data, std::size_t len) {
    const auto& t = table<Poly>();
    const auto* p = static_cast<const unsigned char*>(data);
    crc = ~crc;
    for (std::size_t i = 0; i < len; ++i) crc = t[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

template <std::uint32_t (*Update)(std::uint32_t, const void*, std::size_t)>
class Crc : public Checksum {
public:
    void update(const void* data, std::size_t len) override { crc_ = Update(crc_, data, len); }
    std::string base64() override {
        const char bytes[4] = {static_cast<char>(crc_ >> 24), static_cast<char>(crc_ >> 16),
                               static_cast<char>(crc_ >> 8), static_cast<char>(crc_)};
        return base64_encode(std::string_view(bytes, 4));
    }
private:
    std::uint32_t crc_ = 0;
};

// CRC-64/NVME: reflected polynomial 0x9A6C9329AC4BC9B5, init and xorout all ones.
const std::array<std::uint64_t, 256>& table64() {
    static const std::array<std::uint64_t, 256> t = [] {
        std::array<std::uint64_t, 256> out{};
        for (std::uint64_t i = 0; i < 256; ++i) {
            std::uint64_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? (0x9A6C9329AC4BC9B5ull ^ (c >> 1)) : (c >> 1);
            out[i] = c;
        }
        return out;
    }();
    return t;
}

class Crc64Nvme : public Checksum {
public:
    void update(const void* data, std::size_t len) override { crc_ = crc64nvme_update(crc_, data, len); }
    std::string base64() override {
        char bytes[8];
        for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(crc_ >> (56 - 8 * i));
        return base64_encode(std::string_view(bytes, 8));
    }
private:
    std::uint64_t crc_ = 0;
};

class Hash : public Checksum {
public:
    explicit Hash(const char* algorithm) : digest_(algorithm) {}
    void update(const void* data, std::size_t len) override { digest_.update(data, len); }
    std::string base64() override { return base64_encode(digest_.finish()); }
private:
    Digest digest_;
};

}  // namespace

std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t len) {
    return crc_update<0xEDB88320u>(crc, data, len);
}
std::uint32_t crc32c_update(std::uint32_t crc, const void* data, std::size_t len) {
    return crc_update<0x82F63B78u>(crc, data, len);
}

std::uint64_t crc64nvme_update(std::uint64_t crc, const void* data, std::size_t len) {
    const auto& t = table64();
    const auto* p = static_cast<const unsigned char*>(data);
    crc = ~crc;
    for (std::size_t i = 0; i < len; ++i) crc = t[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

std::unique_ptr<Checksum> Checksum::make(std::string_view algorithm) {
    if (algorithm == "crc32") return std::make_unique<Crc<crc32_update>>();
    if (algorithm == "crc32c") return std::make_unique<Crc<crc32c_update>>();
    if (algorithm == "crc64nvme") return std::make_unique<Crc64Nvme>();
    if (algorithm == "sha1") return std::make_unique<Hash>("sha1");
    if (algorithm == "sha256") return std::make_unique<Hash>("sha256");
    return nullptr;
}

}  // namespace cc
