// The 1space mapping file: {"containers": [ {...}, ... ]}. Each entry says
// where the cloud ("local") copies of one on-prem container live, and how they
// are named there (see layout.h). Keys that belong to the on-prem sync daemon
// are accepted and ignored.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cc {

struct MappingEntry {
    std::string account;                 // "AUTH_test"
    std::string container;               // exact name, or "/*" for every container of the account
    std::string aws_bucket;
    std::string aws_endpoint;            // empty = Amazon S3
    std::string aws_identity, aws_secret;
    std::string protocol = "s3";         // "s3" or "swift"
    std::optional<std::string> custom_prefix;   // absent, "" or "X" (slashes stripped)
    std::string aws_region = "us-east-1";       // optional key "aws_region" (our addition)
    // Per-entry overrides of [cloud-connector] cache_on_read / write_policy / read_routing (our additions).
    std::optional<bool> cc_cache_on_read;
    std::optional<std::string> cc_write_policy;          // "local", "write-through", "write-back"
    std::optional<std::string> cc_read_routing;          // "local-first", "index"
    bool is_wildcard() const { return container == "/*"; }
};

class Mapping {
public:
    // Throws std::runtime_error naming the problem (bad JSON, entry N missing "aws_bucket", ...).
    static Mapping parse(std::string_view json);
    // Exact (account, container) wins over (account, "/*"); nullptr if neither.
    const MappingEntry* resolve(std::string_view account, std::string_view container) const;
    const std::vector<MappingEntry>& entries() const { return entries_; }
private:
    std::vector<MappingEntry> entries_;
    // (account, container) -> index of the first entry with that pair.
    std::unordered_map<std::string, std::size_t> index_;
};

}  // namespace cc
