#include "common/rfc2047.h"

#include <optional>

#include "common/crypto.h"
#include "common/uri.h"

namespace cc::rfc2047 {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::optional<std::string> decode_q(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '_') {
            out.push_back(' ');
        } else if (c == '=') {
            if (i + 2 >= text.size()) return std::nullopt;
            int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<char>((hi << 4) | lo));
            i += 2;
        } else if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
            return std::nullopt;   // encoded text is printable ASCII without spaces
        } else {
            out.push_back(c);
        }
    }
    return out;
}

// Converts the decoded bytes of the given charset to UTF-8, or nullopt if the
// charset is not supported or the bytes are not valid in it.
std::optional<std::string> to_utf8(std::string_view charset, std::string bytes) {
    // RFC 2231 allows a language suffix: "UTF-8*en".
    if (auto star = charset.find('*'); star != std::string_view::npos) charset = charset.substr(0, star);
    if (iequals(charset, "utf-8") || iequals(charset, "utf8")) {
        if (!is_valid_utf8(bytes)) return std::nullopt;
        return bytes;
    }
    if (iequals(charset, "us-ascii") || iequals(charset, "ascii")) {
        for (unsigned char c : bytes)
            if (c >= 0x80) return std::nullopt;
        return bytes;
    }
    if (iequals(charset, "iso-8859-1") || iequals(charset, "latin1")) {
        std::string out;
        out.reserve(bytes.size() * 2);
        for (unsigned char c : bytes) {
            if (c < 0x80) {
                out.push_back(static_cast<char>(c));
            } else {
                out.push_back(static_cast<char>(0xC0 | (c >> 6)));
                out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
            }
        }
        return out;
    }
    return std::nullopt;
}

// Tries to decode an encoded word starting at s[pos] ("=?"). On success
// returns the decoded text and sets end to the index just past "?=".
std::optional<std::string> decode_word(std::string_view s, std::size_t pos, std::size_t& end) {
    if (s.substr(pos, 2) != "=?") return std::nullopt;
    std::size_t cs_start = pos + 2;
    std::size_t q1 = s.find('?', cs_start);
    if (q1 == std::string_view::npos || q1 == cs_start) return std::nullopt;
    std::string_view charset = s.substr(cs_start, q1 - cs_start);
    for (char c : charset)
        if (is_ws(c) || c == '=') return std::nullopt;
    if (q1 + 2 >= s.size() || s[q1 + 2] != '?') return std::nullopt;
    char enc = lower(s[q1 + 1]);
    std::size_t text_start = q1 + 3;
    std::size_t q2 = s.find('?', text_start);
    if (q2 == std::string_view::npos || q2 + 1 >= s.size() || s[q2 + 1] != '=') return std::nullopt;
    std::string_view text = s.substr(text_start, q2 - text_start);
    for (char c : text)
        if (is_ws(c)) return std::nullopt;

    std::optional<std::string> bytes;
    if (enc == 'q') {
        bytes = decode_q(text);
    } else if (enc == 'b') {
        std::string raw;
        if (base64_decode(text, raw)) bytes = std::move(raw);
    }
    if (!bytes) return std::nullopt;
    auto decoded = to_utf8(charset, std::move(*bytes));
    if (!decoded) return std::nullopt;
    end = q2 + 2;
    return decoded;
}

}  // namespace

std::string encode(std::string_view utf8) {
    bool printable = true;
    for (unsigned char c : utf8)
        if (c < 0x20 || c > 0x7e) { printable = false; break; }
    // A printable value that reads as encoded words ("=?UTF-8?B?aGk=?=") is
    // encoded too, or reading it back would decode what the client wrote literally.
    if (printable && decode(utf8) == utf8) return std::string(utf8);
    return "=?UTF-8?B?" + base64_encode(utf8) + "?=";
}

std::string decode(std::string_view value) {
    if (value.find("=?") == std::string_view::npos) return std::string(value);
    std::string out;
    out.reserve(value.size());
    std::size_t i = 0;
    bool last_was_word = false;
    while (i < value.size()) {
        if (value[i] == '=' && i + 1 < value.size() && value[i + 1] == '?') {
            std::size_t end = 0;
            if (auto word = decode_word(value, i, end)) {
                // Whitespace between two encoded words is dropped.
                out += *word;
                i = end;
                last_was_word = true;
                continue;
            }
        }
        if (last_was_word && is_ws(value[i])) {
            // Hold back whitespace after an encoded word until we know what follows.
            std::size_t start = i;
            while (i < value.size() && is_ws(value[i])) ++i;
            std::size_t end = 0;
            if (i < value.size() && decode_word(value, i, end)) {
                continue;   // next iteration decodes the word; the whitespace is dropped
            }
            out.append(value.substr(start, i - start));
            last_was_word = false;
            continue;
        }
        out.push_back(value[i]);
        last_was_word = false;
        ++i;
    }
    return out;
}

}  // namespace cc::rfc2047
