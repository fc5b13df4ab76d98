// Copies an object from one store stack into another without holding it in
// memory: the source is read on a helper thread into a small bounded pipe,
// the destination writes from that pipe on the calling thread. Used by
// CopyObject between keys and UploadPartCopy (the source may exist only
// on-prem), and later by cache fills.
#pragma once
#include <functional>
#include <optional>
#include <string>

#include "storage/object_store.h"

namespace cc {

// Reads `key` from `source` (with `opts`, e.g. a Range) and calls
// write(body, head) with a BodySource that yields exactly the bytes read.
// Returns what write returned, or the source's non-Ok ReadResult (NotFound,
// PreconditionFailed, ...) when there was nothing to copy. Errors on either
// side abort both: a failed read aborts the write before its last byte.
struct CopyOutcome {
    ReadResult source;                // the source's head (status Ok/Partial when copied)
    std::optional<std::string> written;   // what write() returned, if it ran
};
CopyOutcome copy_through(ObjectStore& source, const std::string& key, const ReadOptions& opts,
                         const std::function<std::string(BodySource&, const ReadResult&)>& write,
                         std::size_t pipe_bytes = 8u << 20);

}  // namespace cc
