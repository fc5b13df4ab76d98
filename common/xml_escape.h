#pragma once
#include <string>
#include <string_view>

namespace cc {
// Escapes & < > " ' for XML text and attribute content.
std::string xml_escape(std::string_view s);
}
