// A Swift-proxy style INI file: [sections], "key = value" or "key: value",
// '#' and ';' comments, indented continuation lines appended to the previous
// value. Section and key names are case-sensitive, as Python's configparser
// keeps them in Swift configs. [DEFAULT] values are visible from every section.
#pragma once
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cc {

class IniFile {
public:
    // Throws std::runtime_error("<origin>:<line>: <what>") on a syntax error.
    static IniFile parse(std::string_view text, const std::string& origin);

    // Looks in `section`, then in [DEFAULT].
    std::optional<std::string> get(const std::string& section, const std::string& key) const;
    bool has_section(const std::string& section) const;
    const std::map<std::string, std::map<std::string, std::string>>& sections() const { return sections_; }

private:
    std::map<std::string, std::map<std::string, std::string>> sections_;
};

}  // namespace cc
