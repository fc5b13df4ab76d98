// HTTP conditionals (If-Match, If-None-Match, If-Modified-Since,
// If-Unmodified-Since) with S3's precedence rules:
//   If-Match true makes If-Unmodified-Since irrelevant, If-None-Match false
//   (the ETag matches) makes If-Modified-Since irrelevant.
// Evaluated once above the stores (engine/conditional_store), and by stores
// that answer reads themselves (storage/file_store) when a layer pins a read
// with If-Match.
#pragma once
#include "storage/object_store.h"

namespace cc {

// Ok when the conditions hold, else NotModified or PreconditionFailed.
ReadResult::Status evaluate_conditions(const ReadOptions& opts, const ObjectInfo& info);
bool has_conditions(const ReadOptions& opts);

}  // namespace cc
