#include "storage/byte_range.h"

#include <cstdint>

namespace cc {
namespace {

// A decimal position, blanks around it allowed ("bytes= 0-99"); one too large
// for 64 bits counts as the largest (the end of any object), as Swift and S3 read it.
bool number(const std::string& text, std::uint64_t& out) {
    const auto b = text.find_first_not_of(" \t");
    if (b == std::string::npos) return false;
    const std::string s = text.substr(b, text.find_last_not_of(" \t") + 1 - b);
    if (s.find_first_not_of("0123456789") != std::string::npos) return false;
    out = 0;
    for (char c : s) {
        const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
        if (out > (UINT64_MAX - digit) / 10) {
            out = UINT64_MAX;
            return true;
        }
        out = out * 10 + digit;
    }
    return true;
}

}  // namespace

std::string ByteRange::content_range(std::uint64_t size) const {
    if (kind == Kind::Partial)
        return "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" + std::to_string(size);
    return "bytes */" + std::to_string(size);
}

ByteRange resolve_range(const std::string& header, std::uint64_t size) {
    ByteRange r;
    if (header.rfind("bytes=", 0) != 0) return r;
    const std::string spec = header.substr(6);
    const auto dash = spec.find('-');
    if (dash == std::string::npos || spec.find(',') != std::string::npos) return r;
    const std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
    if (a.find_first_not_of(" \t") == std::string::npos) {   // the last n bytes
        std::uint64_t n;
        if (!number(b, n)) return r;
        if (n == 0 || size == 0) {
            r.kind = ByteRange::Kind::Unsatisfiable;
            return r;
        }
        r.first = n >= size ? 0 : size - n;
        r.last = size - 1;
    } else {
        if (!number(a, r.first)) return r;
        if (b.find_first_not_of(" \t") == std::string::npos) r.last = size == 0 ? 0 : size - 1;
        else if (!number(b, r.last) || r.last < r.first) return ByteRange{};
        if (r.first >= size) {
            r.kind = ByteRange::Kind::Unsatisfiable;
            return r;
        }
        if (r.last >= size) r.last = size - 1;
    }
    r.kind = ByteRange::Kind::Partial;
    return r;
}

}  // namespace cc
