#include "engine/users.h"

#include <stdexcept>
#include <typeinfo>

#include <Poco/JSON/Array.h>

#include "engine/config_json.h"

namespace cc {

UserDb UserDb::parse(std::string_view json) {
    const std::string wrong_shape = "user database: top level must be a JSON list of users";
    const Poco::Dynamic::Var root = parse_config_json(json, "user database", wrong_shape);
    if (root.type() != typeid(Poco::JSON::Array::Ptr)) throw std::runtime_error(wrong_shape);
    const auto list = root.extract<Poco::JSON::Array::Ptr>();

    UserDb db;
    for (std::size_t i = 0; i < list->size(); ++i) {
        const Poco::Dynamic::Var item = list->get(static_cast<unsigned>(i));
        const ConfigEntry entry("user entry", i, item);
        User u;
        u.access_key = entry.required_string("access_key");
        u.secret_key = entry.required_string("secret_key");
        u.account = entry.required_string("account");
        if (db.by_key_.count(u.access_key))
            entry.fail("duplicate access_key \"" + u.access_key + "\"");
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
