#include "engine/mapping.h"

#include <stdexcept>
#include <typeinfo>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "storage/file_store.h"   // file_store_dir

namespace cc {

namespace {

[[noreturn]] void entry_fail(std::size_t index, const std::string& problem) {
    throw std::runtime_error("mapping entry " + std::to_string(index) + ": " + problem);
}

// A required, non-empty string member of entry `index`.
std::string required_string(const Poco::JSON::Object& obj, std::size_t index, const std::string& key) {
    if (!obj.has(key)) entry_fail(index, "missing \"" + key + "\"");
    const Poco::Dynamic::Var v = obj.get(key);
    if (!v.isString()) entry_fail(index, "\"" + key + "\" must be a string");
    std::string s = v.extract<std::string>();
    if (s.empty()) entry_fail(index, "\"" + key + "\" must not be empty");
    return s;
}

// An optional string member: absent or JSON null = not given (as the
// reference's settings.get(key) treats both); anything else must be a string.
std::optional<std::string> optional_string(const Poco::JSON::Object& obj, std::size_t index, const std::string& key) {
    if (!obj.has(key)) return std::nullopt;
    const Poco::Dynamic::Var v = obj.get(key);
    if (v.isEmpty()) return std::nullopt;
    if (!v.isString()) entry_fail(index, "\"" + key + "\" must be a string");
    return v.extract<std::string>();
}

std::string strip_slashes(const std::string& s) {
    const auto b = s.find_first_not_of('/');
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of('/');
    return s.substr(b, e - b + 1);
}

// Unambiguous key for an (account, container) pair.
std::string index_key(std::string_view account, std::string_view container) {
    std::string k = std::to_string(account.size());
    k.push_back(':');
    k.append(account);
    k.append(container);
    return k;
}

// True if the document starts like a JSON scalar (string, number, literal).
bool scalar_top_level(std::string_view json) {
    const auto b = json.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return false;
    const char c = json[b];
    return c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n';
}

}  // namespace

Mapping Mapping::parse(std::string_view json) {
    if (json.substr(0, 3) == "\xEF\xBB\xBF") json.remove_prefix(3);
    Poco::Dynamic::Var root;
    try {
        Poco::JSON::Parser parser;
        root = parser.parse(std::string(json));
    } catch (const Poco::Exception& e) {
        // Poco refuses a scalar top level with an obscure message.
        if (scalar_top_level(json)) throw std::runtime_error("mapping: top level must be a JSON object with a \"containers\" list");
        throw std::runtime_error("mapping: invalid JSON: " + e.displayText());
    }
    if (root.type() != typeid(Poco::JSON::Object::Ptr))
        throw std::runtime_error("mapping: top level must be a JSON object with a \"containers\" list");
    const auto top = root.extract<Poco::JSON::Object::Ptr>();
    if (!top->has("containers")) throw std::runtime_error("mapping: missing \"containers\"");
    const Poco::Dynamic::Var containers = top->get("containers");
    if (containers.type() != typeid(Poco::JSON::Array::Ptr))
        throw std::runtime_error("mapping: \"containers\" must be a list");
    const auto list = containers.extract<Poco::JSON::Array::Ptr>();

    Mapping m;
    m.entries_.reserve(list->size());
    for (std::size_t i = 0; i < list->size(); ++i) {
        const Poco::Dynamic::Var item = list->get(static_cast<unsigned>(i));
        if (item.type() != typeid(Poco::JSON::Object::Ptr)) entry_fail(i, "must be a JSON object");
        const auto& obj = *item.extract<Poco::JSON::Object::Ptr>();

        MappingEntry e;
        e.account = required_string(obj, i, "account");
        e.container = required_string(obj, i, "container");
        e.aws_bucket = required_string(obj, i, "aws_bucket");
        if (auto v = optional_string(obj, i, "aws_endpoint")) e.aws_endpoint = *v;
        try {
            file_store_dir(e.aws_endpoint);   // file:///dir: the embedded store; must name an absolute directory
        } catch (const std::invalid_argument& ex) {
            entry_fail(i, std::string("\"aws_endpoint\" ") + ex.what());
        }
        if (auto v = optional_string(obj, i, "aws_identity")) e.aws_identity = *v;
        if (auto v = optional_string(obj, i, "aws_secret")) e.aws_secret = *v;
        if (auto v = optional_string(obj, i, "protocol")) {
            if (*v != "s3" && *v != "swift") entry_fail(i, "\"protocol\" must be \"s3\" or \"swift\", not \"" + *v + "\"");
            e.protocol = *v;
        }
        if (auto v = optional_string(obj, i, "custom_prefix")) e.custom_prefix = strip_slashes(*v);
        if (auto v = optional_string(obj, i, "aws_region"); v && !v->empty()) e.aws_region = *v;
        if (obj.has("cc_cache_on_read") && !obj.isNull("cc_cache_on_read")) {
            const Poco::Dynamic::Var v = obj.get("cc_cache_on_read");
            if (!v.isBoolean()) entry_fail(i, "\"cc_cache_on_read\" must be true or false");
            e.cc_cache_on_read = v.convert<bool>();
        }
        if (auto v = optional_string(obj, i, "cc_write_policy")) {
            if (*v != "local" && *v != "write-through" && *v != "write-back")
                entry_fail(i, "\"cc_write_policy\" must be local, write-through or write-back, not \"" + *v + "\"");
            e.cc_write_policy = *v;
        }
        if (auto v = optional_string(obj, i, "cc_read_routing")) {
            if (*v != "local-first" && *v != "index")
                entry_fail(i, "\"cc_read_routing\" must be local-first or index, not \"" + *v + "\"");
            e.cc_read_routing = *v;
        }

        m.index_.emplace(index_key(e.account, e.container), m.entries_.size());   // first one wins
        m.entries_.push_back(std::move(e));
    }
    return m;
}

const MappingEntry* Mapping::resolve(std::string_view account, std::string_view container) const {
    auto it = index_.find(index_key(account, container));
    if (it == index_.end()) it = index_.find(index_key(account, "/*"));
    return it == index_.end() ? nullptr : &entries_[it->second];
}

}  // namespace cc
