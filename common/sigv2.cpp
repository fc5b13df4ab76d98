#include "common/sigv2.h"

#include <algorithm>
#include <array>

#include "common/crypto.h"

namespace cc::sigv2 {

namespace {

// The query parameters S3 includes in the SigV2 CanonicalizedResource,
// sorted (AWS "Signing and authenticating REST requests").
constexpr std::array<std::string_view, 25> kSubResources = {
    "acl",
    "cors",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "partNumber",
    "policy",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
};

bool is_sub_resource(std::string_view name) {
    return std::find(kSubResources.begin(), kSubResources.end(), name) != kSubResources.end();
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
    return s;
}

// Header values folded over several lines are unfolded: a line break and the
// whitespace around it become one space.
std::string unfold(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\r' || v[i] == '\n') {
            while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
            while (i + 1 < v.size() && is_ws(v[i + 1])) ++i;
            out.push_back(' ');
        } else {
            out.push_back(v[i]);
        }
    }
    return out;
}

}  // namespace

std::string string_to_sign(const Input& in) {
    std::vector<std::pair<std::string, std::string>> amz;
    bool has_amz_date = false;
    for (const auto& [name, value] : in.headers) {
        std::string lname = to_lower(trim(name));
        if (lname.compare(0, 6, "x-amz-") != 0) continue;
        if (lname == "x-amz-date") has_amz_date = true;
        amz.emplace_back(std::move(lname), unfold(trim(value)));
    }
    std::stable_sort(amz.begin(), amz.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });

    std::string out;
    out += in.method;
    out.push_back('\n');
    out += in.content_md5;
    out.push_back('\n');
    out += in.content_type;
    out.push_back('\n');
    if (!(has_amz_date && !in.query_auth)) out += in.date;
    out.push_back('\n');

    for (std::size_t i = 0; i < amz.size();) {
        const std::string& name = amz[i].first;
        out += name;
        out.push_back(':');
        out += amz[i].second;
        std::size_t j = i + 1;
        for (; j < amz.size() && amz[j].first == name; ++j) {
            out.push_back(',');
            out += amz[j].second;
        }
        out.push_back('\n');
        i = j;
    }

    out += in.resource_path;
    std::vector<std::pair<std::string, std::string>> subs;
    for (const auto& [name, value] : in.query)
        if (is_sub_resource(name)) subs.emplace_back(name, value);
    std::stable_sort(subs.begin(), subs.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    char sep = '?';
    for (const auto& [name, value] : subs) {
        out.push_back(sep);
        sep = '&';
        out += name;
        if (!value.empty()) {
            out.push_back('=');
            out += value;
        }
    }
    return out;
}

std::string signature_base64(std::string_view secret, std::string_view string_to_sign) {
    return base64_encode(hmac_sha1(secret, string_to_sign));
}

}  // namespace cc::sigv2
