// The user database (s3-passwd.json): a JSON list of
// {"access_key": ..., "secret_key": ..., "account": ...}; UTF-8 allowed everywhere.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cc {

struct User {
    std::string access_key, secret_key, account;
};

class UserDb {
public:
    // Throws std::runtime_error naming the problem (bad JSON, entry N missing "secret_key", ...).
    static UserDb parse(std::string_view json);
    const User* find(std::string_view access_key) const;
    // Any user of the account (used to read the remote side with that account's rights).
    const User* any_user_of(std::string_view account) const;
    std::size_t size() const { return by_key_.size(); }
private:
    std::unordered_map<std::string, User> by_key_;
    // account -> access key of that account's first user in file order, so
    // that any_user_of() is deterministic.
    std::unordered_map<std::string, std::string> first_by_account_;
};

}  // namespace cc
