#include "common/uri.h"

namespace cc {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

}  // namespace

std::string uri_encode(std::string_view s, bool keep_slash) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() + s.size() / 2);
    for (unsigned char c : s) {
        if (unreserved(c) || (keep_slash && c == '/')) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(digits[c >> 4]);
            out.push_back(digits[c & 0x0f]);
        }
    }
    return out;
}

bool percent_decode(std::string_view s, std::string& out, bool plus_is_space) {
    out.clear();
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size()) return false;
            int hi = hex_value(s[i + 1]);
            int lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0) return false;
            out.push_back(static_cast<char>((hi << 4) | lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return true;
}

bool parse_query(std::string_view query, std::vector<QueryParam>& out) {
    out.clear();
    std::size_t pos = 0;
    while (pos <= query.size()) {
        std::size_t amp = query.find('&', pos);
        if (amp == std::string_view::npos) amp = query.size();
        std::string_view part = query.substr(pos, amp - pos);
        pos = amp + 1;
        if (part.empty()) continue;
        QueryParam p;
        std::size_t eq = part.find('=');
        if (eq == std::string_view::npos) {
            p.raw_name = std::string(part);
        } else {
            p.raw_name = std::string(part.substr(0, eq));
            p.raw_value = std::string(part.substr(eq + 1));
            p.has_value = true;
        }
        if (!percent_decode(p.raw_name, p.name, true)) return false;
        if (!percent_decode(p.raw_value, p.value, true)) return false;
        out.push_back(std::move(p));
    }
    return true;
}

bool is_valid_utf8(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len;
        unsigned char lo = 0x80, hi = 0xBF;   // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c == 0xE0) {
            len = 3; lo = 0xA0;                  // no overlong 3-byte forms
        } else if (c >= 0xE1 && c <= 0xEC) {
            len = 3;
        } else if (c == 0xED) {
            len = 3; hi = 0x9F;                  // no surrogates U+D800..U+DFFF
        } else if (c >= 0xEE && c <= 0xEF) {
            len = 3;
        } else if (c == 0xF0) {
            len = 4; lo = 0x90;                  // no overlong 4-byte forms
        } else if (c >= 0xF1 && c <= 0xF3) {
            len = 4;
        } else if (c == 0xF4) {
            len = 4; hi = 0x8F;                  // nothing above U+10FFFF
        } else {
            return false;                        // 0x80..0xC1, 0xF5..0xFF
        }
        if (i + len > n) return false;
        if (p[i + 1] < lo || p[i + 1] > hi) return false;
        for (std::size_t k = 2; k < len; ++k)
            if (p[i + k] < 0x80 || p[i + k] > 0xBF) return false;
        i += len;
    }
    return true;
}

}  // namespace cc
