// Non-ASCII user metadata is stored in the cloud store as RFC 2047 encoded
// words (=?UTF-8?Q?...?= / =?UTF-8?B?...?=), as 1space does, and decoded on read.
#pragma once
#include <string>
#include <string_view>

namespace cc::rfc2047 {

// Returns the value unchanged if it is printable ASCII that decode() leaves
// alone; otherwise one =?UTF-8?B?...?= encoded word, so decode(encode(v)) == v.
std::string encode(std::string_view utf8);
// Decodes every encoded word (Q or B, charset UTF-8 or ASCII); whitespace
// between adjacent encoded words is dropped, as RFC 2047 says. Anything that
// is not an encoded word is returned as is.
std::string decode(std::string_view value);

}  // namespace cc::rfc2047
