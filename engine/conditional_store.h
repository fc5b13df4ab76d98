// HTTP conditionals (If-Match, If-None-Match, If-Modified-Since,
// If-Unmodified-Since) evaluated once, here, with S3's precedence rules,
// instead of trusting every backend to implement them the same way:
//   If-Match true makes If-Unmodified-Since irrelevant, If-None-Match false
//   (the ETag matches) makes If-Modified-Since irrelevant.
// A conditional read asks the store below for the object's head first, then
// reads the body only when the conditions hold.
#pragma once
#include "storage/conditions.h"   // evaluate_conditions, has_conditions
#include "storage/forwarding_store.h"

namespace cc {

class ConditionalStore : public ForwardingStore {
public:
    using ForwardingStore::ForwardingStore;
    ReadResult head(const std::string& key, const ReadOptions& opts) override;
    ReadResult get(const std::string& key, const ReadOptions& opts, BodySink& sink) override;
};

}  // namespace cc
