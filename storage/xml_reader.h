// Reading the few XML documents backends send us: error bodies, copy results
// and ListBucketResult pages.
#pragma once
#include <string>
#include <string_view>

#include "storage/object_store.h"

namespace cc {

// Text of the first <tag>...</tag> in a small document, entities decoded; "" if absent.
std::string xml_first_text(std::string_view xml, std::string_view tag);

// A ListObjects (v1) page requested with encoding-type=url: keys and prefixes decoded.
// Throws std::runtime_error on malformed documents.
ListPage parse_list_page(const std::string& xml);

// Multipart documents from a backend: throw std::runtime_error when malformed.
PartsPage parse_parts_page(const std::string& xml);
UploadsPage parse_uploads_page(const std::string& xml);

}  // namespace cc
