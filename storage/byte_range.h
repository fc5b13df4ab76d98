// One HTTP Range header applied to an object of known size, as S3 answers it:
// "bytes=a-b", "bytes=a-" and "bytes=-n", clamped to the object. A header that
// is not a single well-formed byte range is ignored (the whole object), as
// HTTP allows; a range that starts past the end is unsatisfiable (416).
#pragma once
#include <cstdint>
#include <string>

namespace cc {

struct ByteRange {
    enum class Kind { Whole, Partial, Unsatisfiable };
    Kind kind = Kind::Whole;
    std::uint64_t first = 0, last = 0;   // inclusive (Partial)
    std::uint64_t length() const { return last - first + 1; }
    // "bytes a-b/size" (Partial) or "bytes */size" (Unsatisfiable).
    std::string content_range(std::uint64_t size) const;
};

ByteRange resolve_range(const std::string& header, std::uint64_t size);

}  // namespace cc
