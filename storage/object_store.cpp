#include "storage/object_store.h"

namespace cc {
namespace {
[[noreturn]] void no_multipart(const ObjectStore& store) {
    throw S3Error(501, "NotImplemented",
                  "multipart uploads are not supported by the " + store.side() + " store of this bucket");
}
}  // namespace

std::string ObjectStore::create_upload(const std::string&, const WriteOptions&) { no_multipart(*this); }
std::string ObjectStore::upload_part(const std::string&, const std::string&, int, BodySource&, const std::string&) {
    no_multipart(*this);
}
std::string ObjectStore::complete_upload(const std::string&, const std::string&, const std::vector<PartInfo>&) {
    no_multipart(*this);
}
void ObjectStore::abort_upload(const std::string&, const std::string&) { no_multipart(*this); }
PartsPage ObjectStore::list_parts(const std::string&, const std::string&, int, int) { no_multipart(*this); }
UploadsPage ObjectStore::list_uploads(const UploadsRequest&) { no_multipart(*this); }

}  // namespace cc
