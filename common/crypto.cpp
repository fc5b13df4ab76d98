#include "common/crypto.h"

#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>

namespace cc {

namespace {

// Digests fetched from the provider once. OpenSSL 3 fetches the implementation
// behind EVP_sha256() & co. again on every use, and HMAC() goes through
// EVP_Q_mac, which also fetches the MAC: together most of the cost of the short
// inputs SigV4 signs (several HMACs per request, both directions).
const EVP_MD* fetched(const char* name) {
    EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
    if (!md) throw std::runtime_error(std::string("OpenSSL has no ") + name);
    return md;   // kept for the life of the process
}
const EVP_MD* md_sha256() {
    static const EVP_MD* md = fetched("SHA256");
    return md;
}
const EVP_MD* md_sha1() {
    static const EVP_MD* md = fetched("SHA1");
    return md;
}
const EVP_MD* md_md5() {
    static const EVP_MD* md = fetched("MD5");
    return md;
}

// One digest context per thread, reused.
EVP_MD_CTX* thread_ctx() {
    struct Ctx {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        ~Ctx() { EVP_MD_CTX_free(ctx); }
    };
    thread_local Ctx c;
    if (!c.ctx) throw std::runtime_error("EVP_MD_CTX_new failed");
    return c.ctx;
}

std::string evp_digest(const EVP_MD* md, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX* ctx = thread_ctx();
    if (EVP_DigestInit_ex(ctx, md, nullptr) != 1 || EVP_DigestUpdate(ctx, data.data(), data.size()) != 1 ||
        EVP_DigestFinal_ex(ctx, out, &len) != 1)
        throw std::runtime_error("EVP digest failed");
    return std::string(reinterpret_cast<const char*>(out), len);
}

// HMAC (RFC 2104) over a prefetched digest: H((K ^ opad) || H((K ^ ipad) || data)).
std::string hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
    const std::size_t block = static_cast<std::size_t>(EVP_MD_get_block_size(md));
    unsigned char k0[EVP_MAX_MD_SIZE * 2] = {};   // >= every block size used here (64)
    if (block > sizeof k0) throw std::runtime_error("HMAC: digest block too large");
    if (key.size() > block) {
        const std::string hashed = evp_digest(md, key);
        std::copy(hashed.begin(), hashed.end(), k0);
    } else {
        std::copy(key.begin(), key.end(), k0);
    }
    unsigned char pad[EVP_MAX_MD_SIZE * 2];
    unsigned char inner[EVP_MAX_MD_SIZE], out[EVP_MAX_MD_SIZE];
    unsigned int inner_len = 0, len = 0;
    EVP_MD_CTX* ctx = thread_ctx();
    for (std::size_t i = 0; i < block; ++i) pad[i] = k0[i] ^ 0x36;
    if (EVP_DigestInit_ex(ctx, md, nullptr) != 1 || EVP_DigestUpdate(ctx, pad, block) != 1 ||
        EVP_DigestUpdate(ctx, data.data(), data.size()) != 1 || EVP_DigestFinal_ex(ctx, inner, &inner_len) != 1)
        throw std::runtime_error("HMAC failed");
    for (std::size_t i = 0; i < block; ++i) pad[i] = k0[i] ^ 0x5c;
    if (EVP_DigestInit_ex(ctx, md, nullptr) != 1 || EVP_DigestUpdate(ctx, pad, block) != 1 ||
        EVP_DigestUpdate(ctx, inner, inner_len) != 1 || EVP_DigestFinal_ex(ctx, out, &len) != 1)
        throw std::runtime_error("HMAC failed");
    return std::string(reinterpret_cast<const char*>(out), len);
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

}  // namespace

std::string sha256(std::string_view data) { return evp_digest(md_sha256(), data); }
std::string sha256_hex(std::string_view data) { return to_hex(sha256(data)); }
std::string md5(std::string_view data) { return evp_digest(md_md5(), data); }
std::string md5_hex(std::string_view data) { return to_hex(md5(data)); }

std::string hmac_sha256(std::string_view key, std::string_view data) {
    return hmac(md_sha256(), key, data);
}
std::string hmac_sha1(std::string_view key, std::string_view data) {
    return hmac(md_sha1(), key, data);
}

std::string to_hex(std::string_view raw) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(raw.size() * 2);
    for (unsigned char c : raw) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 0x0f]);
    }
    return out;
}

std::string base64_encode(std::string_view raw) {
    std::string out;
    out.reserve((raw.size() + 2) / 3 * 4);
    std::size_t i = 0;
    const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
    for (; i + 3 <= raw.size(); i += 3) {
        unsigned v = (unsigned(p[i]) << 16) | (unsigned(p[i + 1]) << 8) | p[i + 2];
        out.push_back(kB64[(v >> 18) & 63]);
        out.push_back(kB64[(v >> 12) & 63]);
        out.push_back(kB64[(v >> 6) & 63]);
        out.push_back(kB64[v & 63]);
    }
    std::size_t rest = raw.size() - i;
    if (rest == 1) {
        unsigned v = unsigned(p[i]) << 16;
        out.push_back(kB64[(v >> 18) & 63]);
        out.push_back(kB64[(v >> 12) & 63]);
        out += "==";
    } else if (rest == 2) {
        unsigned v = (unsigned(p[i]) << 16) | (unsigned(p[i + 1]) << 8);
        out.push_back(kB64[(v >> 18) & 63]);
        out.push_back(kB64[(v >> 12) & 63]);
        out.push_back(kB64[(v >> 6) & 63]);
        out.push_back('=');
    }
    return out;
}

bool base64_decode(std::string_view text, std::string& out) {
    out.clear();
    if (text.size() % 4 != 0) return false;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        int v[4];
        int pad = 0;
        for (int j = 0; j < 4; ++j) {
            unsigned char c = static_cast<unsigned char>(text[i + j]);
            if (c == '=') {
                // Padding only in the last quantum, only in its last two
                // places, and nothing but padding after it.
                if (!last || j < 2) return false;
                ++pad;
                v[j] = 0;
            } else {
                if (pad > 0) return false;
                v[j] = b64_value(c);
                if (v[j] < 0) return false;
            }
        }
        unsigned n = (unsigned(v[0]) << 18) | (unsigned(v[1]) << 12) | (unsigned(v[2]) << 6) | unsigned(v[3]);
        out.push_back(static_cast<char>((n >> 16) & 0xff));
        if (pad < 2) out.push_back(static_cast<char>((n >> 8) & 0xff));
        if (pad < 1) out.push_back(static_cast<char>(n & 0xff));
    }
    return true;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    volatile unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

struct Digest::Impl {
    EVP_MD_CTX* ctx = nullptr;
    bool finished = false;
};

Digest::Digest(const char* algorithm) : impl_(std::make_unique<Impl>()) {
    const EVP_MD* md = nullptr;
    std::string_view name = algorithm ? algorithm : "";
    if (name == "md5") md = md_md5();
    else if (name == "sha256") md = md_sha256();
    else if (name == "sha1") md = md_sha1();
    else throw std::invalid_argument("unsupported digest algorithm: " + std::string(name));
    impl_->ctx = EVP_MD_CTX_new();
    if (!impl_->ctx) throw std::runtime_error("EVP_MD_CTX_new failed");
    if (EVP_DigestInit_ex(impl_->ctx, md, nullptr) != 1) {
        EVP_MD_CTX_free(impl_->ctx);
        impl_->ctx = nullptr;
        throw std::runtime_error("EVP_DigestInit_ex failed");
    }
}

Digest::~Digest() {
    if (impl_ && impl_->ctx) EVP_MD_CTX_free(impl_->ctx);
}

void Digest::update(const void* data, std::size_t len) {
    if (impl_->finished) throw std::logic_error("Digest::update after finish");
    if (len == 0) return;
    if (EVP_DigestUpdate(impl_->ctx, data, len) != 1)
        throw std::runtime_error("EVP_DigestUpdate failed");
}

std::string Digest::finish() {
    if (impl_->finished) throw std::logic_error("Digest::finish called twice");
    impl_->finished = true;
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(impl_->ctx, out, &len) != 1)
        throw std::runtime_error("EVP_DigestFinal_ex failed");
    return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace cc
