#include "engine/config_json.h"

#include <stdexcept>
#include <typeinfo>

#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>

namespace cc {

namespace {

// True if the document starts like a JSON scalar (string, number, literal).
bool scalar_top_level(std::string_view json) {
    const auto b = json.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return false;
    const char c = json[b];
    return c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n';
}

}  // namespace

Poco::Dynamic::Var parse_config_json(std::string_view json, const std::string& document, const std::string& wrong_shape) {
    if (json.substr(0, 3) == "\xEF\xBB\xBF") json.remove_prefix(3);
    try {
        Poco::JSON::Parser parser;
        return parser.parse(std::string(json));
    } catch (const Poco::Exception& e) {
        if (scalar_top_level(json)) throw std::runtime_error(wrong_shape);
        throw std::runtime_error(document + ": invalid JSON: " + e.displayText());
    }
}

ConfigEntry::ConfigEntry(std::string kind, std::size_t index, const Poco::Dynamic::Var& item)
    : kind_(std::move(kind)), index_(index) {
    if (item.type() != typeid(Poco::JSON::Object::Ptr)) fail("must be a JSON object");
    object_ = item.extract<Poco::JSON::Object::Ptr>();
}

void ConfigEntry::fail(const std::string& problem) const {
    throw std::runtime_error(kind_ + " " + std::to_string(index_) + ": " + problem);
}

std::string ConfigEntry::required_string(const std::string& key) const {
    if (!object_->has(key)) fail("missing \"" + key + "\"");
    const Poco::Dynamic::Var v = object_->get(key);
    if (!v.isString()) fail("\"" + key + "\" must be a string");
    std::string s = v.extract<std::string>();
    if (s.empty()) fail("\"" + key + "\" must not be empty");
    return s;
}

std::optional<std::string> ConfigEntry::optional_string(const std::string& key) const {
    if (!object_->has(key)) return std::nullopt;
    const Poco::Dynamic::Var v = object_->get(key);
    if (v.isEmpty()) return std::nullopt;
    if (!v.isString()) fail("\"" + key + "\" must be a string");
    return v.extract<std::string>();
}

}  // namespace cc
