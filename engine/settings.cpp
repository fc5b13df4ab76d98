#include <cstdlib>
#include "engine/settings.h"

#include <cctype>
#include <charconv>
#include <limits>
#include <stdexcept>

namespace cc {

namespace {

const std::string kDefault = "DEFAULT";
const std::string kProxy = "app:proxy-server";
const std::string kAuth = "filter:cloud-connector-auth";
const std::string kOwn = "cloud-connector";

[[noreturn]] void fail(const std::string& section, const std::string& key, const std::string& problem) {
    throw std::runtime_error("[" + section + "] " + key + ": " + problem);
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// A present value must not be empty; an absent one keeps the default.
void read_string(const IniFile& ini, const std::string& section, const std::string& key, std::string& out) {
    auto v = ini.get(section, key);
    if (!v) return;
    if (v->empty()) fail(section, key, "empty");
    out = *v;
}

// Decimal digits only (an optional leading '+'), parsed fully, within [lo, hi].
void read_int(const IniFile& ini, const std::string& section, const std::string& key, int lo, int hi, int& out) {
    auto v = ini.get(section, key);
    if (!v) return;
    const std::string& s = *v;
    std::string_view digits = s;
    if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
    long long n = 0;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    const bool all_digits = !digits.empty() && digits.front() != '-' && digits.front() != '+';
    if (!all_digits || ptr != digits.data() + digits.size() ||
        (ec != std::errc() && ec != std::errc::result_out_of_range)) {
        fail(section, key, std::string(lo > 0 ? "not a positive integer" : "not an integer") + ": '" + s + "'");
    }
    if (ec == std::errc::result_out_of_range || n < lo || n > hi) {
        fail(section, key, "out of range " + std::to_string(lo) + ".." + std::to_string(hi) + ": '" + s + "'");
    }
    out = static_cast<int>(n);
}

}  // namespace

Settings settings_from_ini(const IniFile& ini) {
    Settings s;

    // [DEFAULT]
    read_string(ini, kDefault, "bind_ip", s.bind_ip);
    read_int(ini, kDefault, "bind_port", 1, 65535, s.bind_port);

    auto url = ini.get(kDefault, "swift_baseurl");
    if (!url || url->empty()) fail(kDefault, "swift_baseurl", "missing");
    {
        std::string u = *url;
        const auto sep = u.find("://");
        const std::string scheme = sep == std::string::npos ? std::string() : lower(u.substr(0, sep + 3));
        if (scheme != "http://" && scheme != "https://")
            fail(kDefault, "swift_baseurl", "must start with http:// or https://: '" + *url + "'");
        while (!u.empty() && u.back() == '/') u.pop_back();
        if (u.size() <= scheme.size()) fail(kDefault, "swift_baseurl", "no host: '" + *url + "'");
        s.swift_baseurl = scheme + u.substr(scheme.size());   // scheme in lower case
    }

    if (auto lvl = ini.get(kDefault, "log_level")) {
        std::string l = lower(*lvl);
        if (l == "warn") l = "warning";
        if (l != "debug" && l != "info" && l != "warning" && l != "error")
            fail(kDefault, "log_level", "must be one of debug, info, warning, error: '" + *lvl + "'");
        s.log_level = l;
    }

    // Names of the mapping file and the user database.
    read_string(ini, kProxy, "conf_file", s.mapping_file);
    read_string(ini, kAuth, "s3_passwd_json", s.users_file);

    // [cloud-connector]
    read_string(ini, kOwn, "state_dir", s.state_dir);
    read_int(ini, kOwn, "reload_interval", 1, 86400, s.reload_interval);
    read_int(ini, kOwn, "max_threads", 1, 65536, s.max_threads);
    read_int(ini, kOwn, "keep_alive_timeout", 1, 3600, s.keep_alive_timeout);
    read_int(ini, kOwn, "request_header_timeout", 1, 3600, s.request_header_timeout);
    read_int(ini, kOwn, "client_timeout", 1, 3600, s.client_timeout);
    read_int(ini, kOwn, "request_body_timeout", 1, 3600, s.request_body_timeout);
    read_int(ini, kOwn, "request_body_min_rate", 0, 1 << 30, s.request_body_min_rate);
    read_int(ini, kOwn, "backend_connect_timeout", 1, 3600, s.backend_connect_timeout);
    read_int(ini, kOwn, "backend_timeout", 1, 86400, s.backend_timeout);
    read_string(ini, kOwn, "remote_region", s.remote_region);
    read_int(ini, kOwn, "max_skew_seconds", 1, 7 * 86400, s.max_skew_seconds);
    read_int(ini, kOwn, "index_refresh_interval", 1, 86400 * 7, s.index_refresh_interval);
    if (s.index_refresh_interval == 0) s.index_refresh_interval = s.reload_interval;
    read_int(ini, kOwn, "index_max_staleness", 1, 86400 * 30, s.index_max_staleness);
    if (s.index_max_staleness == 0) s.index_max_staleness = 3 * s.index_refresh_interval;
    read_string(ini, kOwn, "listing", s.listing);
    if (auto v = ini.get(kOwn, "cache_on_read")) {
        std::string b = *v;
        for (auto& c : b) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (b == "true" || b == "yes" || b == "on" || b == "1") s.cache_on_read = true;
        else if (b == "false" || b == "no" || b == "off" || b == "0") s.cache_on_read = false;
        else fail(kOwn, "cache_on_read", "must be true or false: '" + *v + "'");
    }
    if (auto v = ini.get(kOwn, "cache_max_object_size")) {
        char* end = nullptr;
        unsigned long long n = std::strtoull(v->c_str(), &end, 10);
        if (v->empty() || *end || n == 0) fail(kOwn, "cache_max_object_size", "not a positive number of bytes: '" + *v + "'");
        s.cache_max_object_size = n;
    }
    read_int(ini, kOwn, "cache_revalidate_after", 1, 86400 * 365, s.cache_revalidate_after);
    read_string(ini, kOwn, "write_policy", s.write_policy);
    if (s.write_policy != "local" && s.write_policy != "write-through" && s.write_policy != "write-back")
        fail(kOwn, "write_policy", "must be local, write-through or write-back: '" + s.write_policy + "'");
    if (auto v = ini.get(kOwn, "file_store_max_bytes")) {
        // Bytes, optionally with a binary suffix K, M, G or T (KiB ... TiB); 0 = unlimited.
        std::string t = *v;
        std::uint64_t unit = 1;
        if (!t.empty()) {
            switch (std::toupper(static_cast<unsigned char>(t.back()))) {
                case 'K': unit = 1ull << 10; break;
                case 'M': unit = 1ull << 20; break;
                case 'G': unit = 1ull << 30; break;
                case 'T': unit = 1ull << 40; break;
                default: break;
            }
            if (unit != 1) t.pop_back();
        }
        std::uint64_t n = 0;
        const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
        if (t.empty() || ptr != t.data() + t.size() || (ec != std::errc() && ec != std::errc::result_out_of_range))
            fail(kOwn, "file_store_max_bytes",
                 "not a number of bytes (digits, optionally followed by K, M, G or T; 0 = unlimited): '" + *v + "'");
        if (ec == std::errc::result_out_of_range || n > std::numeric_limits<std::uint64_t>::max() / unit)
            fail(kOwn, "file_store_max_bytes", "too large: '" + *v + "'");
        s.file_store_max_bytes = n * unit;
    }
    if (auto v = ini.get(kOwn, "tls_cert_file")) s.tls_cert_file = *v;
    if (auto v = ini.get(kOwn, "tls_key_file")) s.tls_key_file = *v;
    if (s.tls_cert_file.empty() != s.tls_key_file.empty())
        fail(kOwn, s.tls_cert_file.empty() ? "tls_cert_file" : "tls_key_file",
             "missing (native TLS needs both tls_cert_file and tls_key_file)");
    if (s.listing != "auto" && s.listing != "index" && s.listing != "live")
        fail(kOwn, "listing", "must be auto, index or live: '" + s.listing + "'");
    read_string(ini, kOwn, "read_routing", s.read_routing);
    if (s.read_routing != "local-first" && s.read_routing != "index")
        fail(kOwn, "read_routing", "must be local-first or index: '" + s.read_routing + "'");
    if (s.read_routing == "index" && s.listing == "live")
        fail(kOwn, "read_routing", "index needs the presence index, which listing = live turns off");
    if (auto domains = ini.get(kOwn, "storage_domain")) {
        std::string item;
        for (std::size_t i = 0; i <= domains->size(); ++i) {
            if (i == domains->size() || (*domains)[i] == ',') {
                while (!item.empty() && (item.back() == ' ' || item.back() == '.')) item.pop_back();
                std::size_t start = item.find_first_not_of(" .");
                if (start != std::string::npos) {
                    std::string d = item.substr(start);
                    for (auto& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                    if (d.find_first_of(" /:") != std::string::npos)
                        fail(kOwn, "storage_domain", "not a domain name: '" + d + "'");
                    s.storage_domains.push_back(d);
                }
                item.clear();
            } else {
                item += (*domains)[i];
            }
        }
    }
    return s;
}

}  // namespace cc
