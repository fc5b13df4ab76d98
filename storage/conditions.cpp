#include "storage/conditions.h"

#include "common/timefmt.h"

namespace cc {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string_view strong(std::string_view etag) {
    etag = trim(etag);
    if (etag.rfind("W/", 0) == 0) etag.remove_prefix(2);
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
    return etag;
}

// "*", or a comma-separated list of (quoted or bare) ETags.
bool etag_matches(std::string_view list, std::string_view etag) {
    if (trim(list) == "*") return true;
    const std::string_view target = strong(etag);
    while (!list.empty()) {
        auto comma = list.find(',');
        if (strong(list.substr(0, comma)) == target) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace

bool has_conditions(const ReadOptions& o) {
    return !o.if_match.empty() || !o.if_none_match.empty() || !o.if_modified_since.empty() ||
           !o.if_unmodified_since.empty();
}

ReadResult::Status evaluate_conditions(const ReadOptions& o, const ObjectInfo& info) {
    using S = ReadResult::Status;
    if (!o.if_match.empty()) {
        if (!etag_matches(o.if_match, info.etag)) return S::PreconditionFailed;
    } else if (!o.if_unmodified_since.empty()) {
        // An unparseable date is ignored, as HTTP says.
        if (auto t = parse_http_date(o.if_unmodified_since); t && info.last_modified > *t) return S::PreconditionFailed;
    }
    if (!o.if_none_match.empty()) {
        if (etag_matches(o.if_none_match, info.etag)) return S::NotModified;
    } else if (!o.if_modified_since.empty()) {
        if (auto t = parse_http_date(o.if_modified_since); t && info.last_modified <= *t) return S::NotModified;
    }
    return S::Ok;
}

}  // namespace cc
