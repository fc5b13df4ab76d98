#include "engine/users.h"

#include <stdexcept>
#include <typeinfo>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace cc {

namespace {

[[noreturn]] void entry_fail(std::size_t index, const std::string& problem) {
    throw std::runtime_error("user entry " + std::to_string(index) + ": " + problem);
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

// True if the document starts like a JSON scalar (string, number, literal).
bool scalar_top_level(std::string_view json) {
    const auto b = json.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return false;
    const char c = json[b];
    return c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n';
}

}  // namespace

UserDb UserDb::parse(std::string_view json) {
    if (json.substr(0, 3) == "\xEF\xBB\xBF") json.remove_prefix(3);
    Poco::Dynamic::Var root;
    try {
        Poco::JSON::Parser parser;
        root = parser.parse(std::string(json));
    } catch (const Poco::Exception& e) {
        // Poco refuses a scalar top level with an obscure message.
        if (scalar_top_level(json)) throw std::runtime_error("user database: top level must be a JSON list of users");
        throw std::runtime_error("user database: invalid JSON: " + e.displayText());
    }
    if (root.type() != typeid(Poco::JSON::Array::Ptr))
        throw std::runtime_error("user database: top level must be a JSON list of users");
    const auto list = root.extract<Poco::JSON::Array::Ptr>();

    UserDb db;
    for (std::size_t i = 0; i < list->size(); ++i) {
        const Poco::Dynamic::Var item = list->get(static_cast<unsigned>(i));
        if (item.type() != typeid(Poco::JSON::Object::Ptr)) entry_fail(i, "must be a JSON object");
        const auto obj = item.extract<Poco::JSON::Object::Ptr>();
        User u;
        u.access_key = required_string(*obj, i, "access_key");
        u.secret_key = required_string(*obj, i, "secret_key");
        u.account = required_string(*obj, i, "account");
        if (db.by_key_.count(u.access_key))
            entry_fail(i, "duplicate access_key \"" + u.access_key + "\"");
        db.first_by_account_.emplace(u.account, u.access_key);   // keeps the first
        std::string key = u.access_key;
        db.by_key_.emplace(std::move(key), std::move(u));
    }
    return db;
}

const User* UserDb::find(std::string_view access_key) const {
    auto it = by_key_.find(std::string(access_key));
    return it == by_key_.end() ? nullptr : &it->second;
}

const User* UserDb::any_user_of(std::string_view account) const {
    auto it = first_by_account_.find(std::string(account));
    return it == first_by_account_.end() ? nullptr : find(it->second);
}

}  // namespace cc
