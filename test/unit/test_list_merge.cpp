// The merged listing over two in-memory stores: exact pages across the seam,
// one entry per name, prefixes rolled up once, continuation from any marker.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <set>

#include "engine/list_merge.h"

using namespace cc;

namespace {

// A fake store that lists like S3 (v1, marker, delimiter, max_keys) over a key set.
class MemoryStore : public ObjectStore {
public:
    explicit MemoryStore(std::map<std::string, std::uint64_t> keys) : keys_(std::move(keys)) {}
    int list_calls = 0;
    ReadResult head(const std::string&, const ReadOptions&) override { return {}; }
    ReadResult get(const std::string&, const ReadOptions&, BodySink&) override { return {}; }
    Stored put(const std::string&, const WriteOptions&, BodySource&) override { return {}; }
    void remove(const std::string&) override {}
    std::optional<std::string> replace_metadata(const std::string&, const WriteOptions&) override { return {}; }
    std::string side() const override { return "memory"; }
    ListPage list(const ListRequest& r) override {
        ++list_calls;
        ListPage page;
        std::string last_prefix;
        for (auto it = keys_.upper_bound(r.marker); it != keys_.end(); ++it) {
            const std::string& k = it->first;
            if (k.compare(0, r.prefix.size(), r.prefix) != 0) continue;
            ListEntry e;
            auto d = r.delimiter.empty() ? std::string::npos : k.find(r.delimiter, r.prefix.size());
            if (d != std::string::npos) {
                std::string p = k.substr(0, d + r.delimiter.size());
                if (p == last_prefix || p <= r.marker) continue;
                last_prefix = p;
                e.is_prefix = true;
                e.info.key = p;
            } else {
                e.info.key = k;
                e.info.size = it->second;
            }
            if (static_cast<int>(page.entries.size()) == r.max_keys) {
                page.truncated = true;
                page.next_marker = page.entries.back().info.key;
                break;
            }
            page.entries.push_back(e);
        }
        return page;
    }
private:
    std::map<std::string, std::uint64_t> keys_;
};

// What the merged listing must be: the union, rolled up, sorted.
std::vector<std::string> expected(const std::set<std::string>& all, const std::string& prefix, const std::string& delim) {
    std::set<std::string> out;
    for (const auto& k : all) {
        if (k.compare(0, prefix.size(), prefix) != 0) continue;
        auto d = delim.empty() ? std::string::npos : k.find(delim, prefix.size());
        out.insert(d == std::string::npos ? k : k.substr(0, d + delim.size()));
    }
    return {out.begin(), out.end()};
}

std::vector<std::string> walk(ObjectStore& a, ObjectStore& b, const std::string& prefix, const std::string& delim,
                              int max_keys) {
    std::vector<std::string> names;
    ListRequest req{prefix, delim, "", max_keys};
    for (int guard = 0; guard < 10000; ++guard) {
        ListPage page = merge_listings(a, b, req);
        CHECK(static_cast<int>(page.entries.size()) <= max_keys);
        for (const auto& e : page.entries) names.push_back(e.info.key);
        if (!page.truncated) break;
        CHECK(static_cast<int>(page.entries.size()) == max_keys);   // pages are exact
        req.marker = page.next_marker;
    }
    return names;
}

}  // namespace

TEST_CASE("a key in both stores appears once, with the preferred store's entry") {
    MemoryStore local({{"a", 1}, {"b", 10}});
    MemoryStore remote({{"b", 20}, {"c", 3}});
    ListPage page = merge_listings(local, remote, {"", "", "", 1000});
    REQUIRE(page.entries.size() == 3);
    CHECK(page.entries[1].info.key == "b");
    CHECK(page.entries[1].info.size == 10);
    CHECK_FALSE(page.truncated);
}

TEST_CASE("pages are cut exactly across the seam between stores") {
    MemoryStore local({{"a1", 1}, {"a3", 1}, {"a5", 1}});
    MemoryStore remote({{"a2", 1}, {"a4", 1}, {"a6", 1}});
    ListPage p1 = merge_listings(local, remote, {"", "", "", 4});
    REQUIRE(p1.entries.size() == 4);
    CHECK(p1.truncated);
    CHECK(p1.next_marker == "a4");
    ListPage p2 = merge_listings(local, remote, {"", "", p1.next_marker, 4});
    REQUIRE(p2.entries.size() == 2);
    CHECK(p2.entries[0].info.key == "a5");
    CHECK_FALSE(p2.truncated);
}

TEST_CASE("common prefixes from both sides roll up once and are not repeated on the next page") {
    MemoryStore local({{"d/1", 1}, {"d/2", 1}, {"e", 1}});
    MemoryStore remote({{"d/3", 1}, {"f/1", 1}});
    ListPage p1 = merge_listings(local, remote, {"", "/", "", 1});
    REQUIRE(p1.entries.size() == 1);
    CHECK(p1.entries[0].is_prefix);
    CHECK(p1.entries[0].info.key == "d/");
    ListPage p2 = merge_listings(local, remote, {"", "/", p1.next_marker, 1000});
    REQUIRE(p2.entries.size() == 2);
    CHECK(p2.entries[0].info.key == "e");
    CHECK(p2.entries[1].info.key == "f/");
}

TEST_CASE("is_common_prefix") {
    CHECK(is_common_prefix("a/", "", "/"));
    CHECK(is_common_prefix("p/a/", "p/", "/"));
    CHECK_FALSE(is_common_prefix("p/", "p/", "/"));
    CHECK_FALSE(is_common_prefix("a/b", "", "/"));
    CHECK_FALSE(is_common_prefix("a/", "", ""));
}

TEST_CASE("randomized: every page size, prefix and delimiter gives the union, sorted, once") {
    std::mt19937 rng(12345);
    const std::vector<std::string> parts = {"a", "b", "é", "z", "/", "-", "😀", "a/b", "~"};
    for (int round = 0; round < 60; ++round) {
        std::map<std::string, std::uint64_t> l, r;
        std::set<std::string> all;
        int n = 1 + static_cast<int>(rng() % 40);
        for (int i = 0; i < n; ++i) {
            std::string k;
            int len = 1 + static_cast<int>(rng() % 4);
            for (int j = 0; j < len; ++j) k += parts[rng() % parts.size()];
            all.insert(k);
            switch (rng() % 3) {
                case 0: l[k] = 1; break;
                case 1: r[k] = 2; break;
                default: l[k] = 1; r[k] = 2;
            }
        }
        MemoryStore ls(l), rs(r);
        for (const std::string& delim : {std::string(), std::string("/")})
            for (const std::string& prefix : {std::string(), std::string("a"), std::string("a/")})
                for (int max_keys : {1, 2, 3, 7, 1000}) {
                    CAPTURE(round);
                    CAPTURE(delim);
                    CAPTURE(prefix);
                    CAPTURE(max_keys);
                    CHECK(walk(ls, rs, prefix, delim, max_keys) == expected(all, prefix, delim));
                }
    }
}
