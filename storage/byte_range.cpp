#include "storage/byte_range.h"

#include <cstdlib>

namespace cc {
namespace {

bool number(const std::string& s, std::uint64_t& out) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 19) return false;
    out = std::strtoull(s.c_str(), nullptr, 10);
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
    if (a.empty()) {   // the last n bytes
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
        if (b.empty()) r.last = size == 0 ? 0 : size - 1;
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
