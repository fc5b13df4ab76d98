#include "engine/mapping.h"

#include <stdexcept>
#include <typeinfo>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "engine/config_json.h"
#include "storage/file_store.h"   // file_store_dir

namespace cc {

namespace {

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

}  // namespace

Mapping Mapping::parse(std::string_view json) {
    const std::string wrong_shape = "mapping: top level must be a JSON object with a \"containers\" list";
    const Poco::Dynamic::Var root = parse_config_json(json, "mapping", wrong_shape);
    if (root.type() != typeid(Poco::JSON::Object::Ptr)) throw std::runtime_error(wrong_shape);
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
        const ConfigEntry entry("mapping entry", i, item);
        const Poco::JSON::Object& obj = entry.object();

        MappingEntry e;
        e.account = entry.required_string("account");
        e.container = entry.required_string("container");
        e.aws_bucket = entry.required_string("aws_bucket");
        if (auto v = entry.optional_string("aws_endpoint")) e.aws_endpoint = *v;
        try {
            file_store_dir(e.aws_endpoint);   // file:///dir: the embedded store; must name an absolute directory
        } catch (const std::invalid_argument& ex) {
            entry.fail(std::string("\"aws_endpoint\" ") + ex.what());
        }
        if (auto v = entry.optional_string("aws_identity")) e.aws_identity = *v;
        if (auto v = entry.optional_string("aws_secret")) e.aws_secret = *v;
        if (auto v = entry.optional_string("protocol")) {
            if (*v != "s3" && *v != "swift") entry.fail("\"protocol\" must be \"s3\" or \"swift\", not \"" + *v + "\"");
            e.protocol = *v;
        }
        if (auto v = entry.optional_string("custom_prefix")) e.custom_prefix = strip_slashes(*v);
        if (auto v = entry.optional_string("aws_region"); v && !v->empty()) e.aws_region = *v;
        if (obj.has("cc_cache_on_read") && !obj.isNull("cc_cache_on_read")) {
            const Poco::Dynamic::Var v = obj.get("cc_cache_on_read");
            if (!v.isBoolean()) entry.fail("\"cc_cache_on_read\" must be true or false");
            e.cc_cache_on_read = v.convert<bool>();
        }
        if (auto v = entry.optional_string("cc_write_policy")) {
            if (*v != "local" && *v != "write-through" && *v != "write-back")
                entry.fail("\"cc_write_policy\" must be local, write-through or write-back, not \"" + *v + "\"");
            e.cc_write_policy = *v;
        }
        if (auto v = entry.optional_string("cc_read_routing")) {
            if (*v != "local-first" && *v != "index")
                entry.fail("\"cc_read_routing\" must be local-first or index, not \"" + *v + "\"");
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
