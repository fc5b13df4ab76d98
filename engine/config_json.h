#pragma once
// How the config bucket's two JSON documents (the mapping and the user
// database) are read: the same tolerance and the same kind of message for
// both, naming the document and the entry that is wrong.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>

namespace cc {

// Parses a document (a leading UTF-8 BOM is skipped). `document` names it in
// messages ("mapping"); `wrong_shape` is the whole message for a scalar top
// level, which Poco refuses with an obscure one. The caller checks the shape.
Poco::Dynamic::Var parse_config_json(std::string_view json, const std::string& document, const std::string& wrong_shape);

// Entry `index` of a document's list, which must be a JSON object; its
// problems are reported as "<kind> <index>: <problem>".
class ConfigEntry {
public:
    ConfigEntry(std::string kind, std::size_t index, const Poco::Dynamic::Var& item);

    [[noreturn]] void fail(const std::string& problem) const;
    const Poco::JSON::Object& object() const { return *object_; }
    // A required, non-empty string member.
    std::string required_string(const std::string& key) const;
    // An optional string member: absent or JSON null = not given (as the
    // reference's settings.get(key) treats both); anything else must be a string.
    std::optional<std::string> optional_string(const std::string& key) const;

private:
    std::string kind_;
    std::size_t index_;
    Poco::JSON::Object::Ptr object_;
};

}  // namespace cc
