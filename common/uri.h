// Percent-encoding as S3 and SigV4 define it, and query-string parsing.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cc {

// AWS URI encoding: unreserved = A-Z a-z 0-9 - _ . ~ stay; everything else
// becomes %XY (upper-case hex), byte by byte. If keep_slash, '/' stays.
std::string uri_encode(std::string_view s, bool keep_slash = false);

// Strict percent-decoding. Returns false on a '%' not followed by two hex digits.
// If plus_is_space, '+' decodes to ' ' (form/query semantics); otherwise it stays '+'.
bool percent_decode(std::string_view s, std::string& out, bool plus_is_space = false);

// One query parameter as it appeared on the wire and decoded.
struct QueryParam {
    std::string raw_name, raw_value;   // exactly as sent (still percent-encoded)
    std::string name, value;           // decoded ('+' is a space, as S3 does)
    bool has_value = false;            // "?uploads" has none, "?a=" has an empty one
};

// Splits "a=1&b&c=%20" into params in order. Returns false on bad percent-encoding.
bool parse_query(std::string_view query, std::vector<QueryParam>& out);

// True if s is valid UTF-8 (no overlong forms, no surrogates).
bool is_valid_utf8(std::string_view s);

}  // namespace cc
