#include "storage/swift_store.h"

namespace cc {
// Implemented by a follow-up change; until then every call is a clear 501.
namespace {
[[noreturn]] void not_yet() {
    throw S3Error(501, "NotImplemented", "mappings with protocol \"swift\" are not supported by this build yet");
}
}  // namespace
SwiftStore::SwiftStore(SwiftLocation where) : where_(std::move(where)) {}
ReadResult SwiftStore::head(const std::string&, const ReadOptions&) { not_yet(); }
ReadResult SwiftStore::get(const std::string&, const ReadOptions&, BodySink&) { not_yet(); }
std::string SwiftStore::put(const std::string&, const WriteOptions&, BodySource&) { not_yet(); }
void SwiftStore::remove(const std::string&) { not_yet(); }
std::optional<std::string> SwiftStore::replace_metadata(const std::string&, const WriteOptions&) { not_yet(); }
ListPage SwiftStore::list(const ListRequest&) { not_yet(); }
}  // namespace cc
