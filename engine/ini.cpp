// Swift-proxy style INI parsing, following Python's configparser where it
// matters for existing configs:
//   - a UTF-8 BOM at the start of the text is skipped; LF and CRLF line ends;
//   - blank lines and lines whose first non-blank character is '#' or ';' are
//     skipped (no inline comments: "a = b ; c" has the value "b ; c");
//   - "[name]" starts a section (text after the closing ']' is ignored, as
//     Python's greedy header pattern does); a repeated section merges into the
//     earlier one; a repeated key keeps the last value;
//   - "key = value" / "key: value": the first '=' or ':' separates, anything
//     after it (including more '=' or ':') belongs to the value; key and value
//     are trimmed; no %-interpolation is done;
//   - a line indented deeper than the line of the key before it continues that
//     key's value; the pieces are joined with '\n'.
#include "engine/ini.h"

namespace cc {

namespace {

constexpr std::string_view kWhitespace = " \t\f\v\r\n";

std::string_view trim(std::string_view s) {
    const auto b = s.find_first_not_of(kWhitespace);
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(kWhitespace);
    return s.substr(b, e - b + 1);
}

std::size_t indent_of(std::string_view line) {
    std::size_t n = 0;
    while (n < line.size() && (line[n] == ' ' || line[n] == '\t' || line[n] == '\f' || line[n] == '\v')) ++n;
    return n;
}

[[noreturn]] void fail(const std::string& origin, std::size_t lineno, const std::string& what) {
    throw std::runtime_error(origin + ":" + std::to_string(lineno) + ": " + what);
}

}  // namespace

IniFile IniFile::parse(std::string_view text, const std::string& origin) {
    IniFile ini;
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

    std::map<std::string, std::string>* section = nullptr;
    std::string* value = nullptr;      // value of the last key, for continuation lines
    std::size_t value_indent = 0;      // indentation of that key's line

    std::size_t lineno = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        ++lineno;
        auto nl = text.find('\n', pos);
        std::string_view line = nl == std::string_view::npos ? text.substr(pos) : text.substr(pos, nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

        const std::string_view content = trim(line);
        if (content.empty() || content.front() == '#' || content.front() == ';') continue;

        const std::size_t indent = indent_of(line);
        if (value != nullptr && indent > value_indent) {
            value->push_back('\n');
            value->append(content);
            continue;
        }

        if (content.front() == '[') {
            const auto close = content.rfind(']');
            if (close == std::string_view::npos || close < 2) fail(origin, lineno, "malformed section header: " + std::string(content));
            const std::string name(trim(content.substr(1, close - 1)));
            if (name.empty()) fail(origin, lineno, "empty section name");
            section = &ini.sections_[name];
            value = nullptr;
            continue;
        }

        const auto sep = content.find_first_of("=:");
        if (sep == std::string_view::npos) fail(origin, lineno, "expected 'key = value': " + std::string(content));
        const std::string key(trim(content.substr(0, sep)));
        if (key.empty()) fail(origin, lineno, "missing key before '" + std::string(1, content[sep]) + "'");
        if (section == nullptr) fail(origin, lineno, "key '" + key + "' outside of any [section]");
        value = &((*section)[key] = std::string(trim(content.substr(sep + 1))));
        value_indent = indent;
    }
    return ini;
}

std::optional<std::string> IniFile::get(const std::string& section, const std::string& key) const {
    if (auto s = sections_.find(section); s != sections_.end()) {
        if (auto k = s->second.find(key); k != s->second.end()) return k->second;
    }
    if (section != "DEFAULT") {
        if (auto d = sections_.find("DEFAULT"); d != sections_.end()) {
            if (auto k = d->second.find(key); k != d->second.end()) return k->second;
        }
    }
    return std::nullopt;
}

bool IniFile::has_section(const std::string& section) const {
    return sections_.count(section) != 0;
}

}  // namespace cc
