#include "engine/layout.h"

#include <cstdint>
#include <stdexcept>

#include <openssl/evp.h>

namespace cc::layout {

namespace {

// custom_prefix as the reference uses it: surrounding '/' stripped.
std::string_view stripped(std::string_view p) {
    while (!p.empty() && p.front() == '/') p.remove_prefix(1);
    while (!p.empty() && p.back() == '/') p.remove_suffix(1);
    return p;
}

}  // namespace

std::string hash_prefix(std::string_view account, std::string_view container) {
    std::string input;
    input.reserve(account.size() + 1 + container.size());
    input.append(account).push_back('/');
    input.append(container);

    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(input.data(), input.size(), md, &len, EVP_md5(), nullptr) != 1 || len != 16)
        throw std::runtime_error("layout: MD5 digest failed");

    // md5 as a 128-bit big-endian number, mod 16^6 = its last three bytes.
    std::uint32_t n = (std::uint32_t{md[13]} << 16) | (std::uint32_t{md[14]} << 8) | md[15];

    // Lower-case hex without zero padding (Python's hex(n)[2:]); 0 -> "0".
    static constexpr char kHex[] = "0123456789abcdef";
    char buf[8];
    int i = 8;
    do {
        buf[--i] = kHex[n & 0xf];
        n >>= 4;
    } while (n != 0);
    return std::string(buf + i, buf + 8);
}

std::string object_prefix(std::string_view account, std::string_view container,
                          const std::optional<std::string>& custom_prefix) {
    if (custom_prefix) {
        const std::string_view x = stripped(*custom_prefix);
        return x.empty() ? std::string() : std::string(x) + "/";
    }
    std::string p = hash_prefix(account, container);
    p.push_back('/');
    p.append(account).push_back('/');
    p.append(container).push_back('/');
    return p;
}

bool is_hidden_name(std::string_view stripped_name, const std::optional<std::string>& custom_prefix) {
    // With a custom prefix the reference keeps SLO manifests at
    // "X/.manifests/<sha256>.swift_slo_manifest" (".manifests/..." for ""),
    // i.e. inside the listed prefix. Without one they live under
    // "<P>/.manifests/<a>/<c>/", outside "<P>/<a>/<c>/", so a stripped name
    // starting with ".manifests/" there is an ordinary object of the container.
    return custom_prefix.has_value() && stripped_name.starts_with(".manifests/");
}

}  // namespace cc::layout
