// cc-index: inspects and repairs the presence index of a cloud-connector
// state dir. The read-only commands (stats, ls, show, verify) open the
// database without taking its lock, so they work next to a running server and
// never block it; they see the state as of their start. rebuild writes, so it
// needs the lock: it refuses to run while a server holds the state dir.
#include <CLI/CLI.hpp>

#include <rocksdb/db.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <Poco/Exception.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "engine/gateway.h"
#include "storage/file_store.h"
#include "engine/index_refresher.h"
#include "engine/presence_index.h"
#include "engine/writeback_journal.h"
#include "engine/startup.h"
#include "engine/state_dir.h"
#include "storage/http_client.h"

namespace {

// Exit codes: 0 fine; 1 the answer is "no" (verify found differences, show
// found nothing); 2 an error (one line on stderr).
constexpr int kDifferent = 1;
constexpr int kError = 2;

struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// ---------------------------------------------------------------- options

struct Options {
    std::string state_dir, config;
    bool json = false;
    std::string mapping, key, prefix;
    std::vector<std::string> where;
};

struct Target {
    std::string account, container;
    std::string name() const { return account + "/" + container; }
};

Target parse_target(const std::string& text) {
    const auto slash = text.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == text.size() ||
        text.find('/', slash + 1) != std::string::npos)
        throw Failure("malformed mapping '" + text + "': expected ACCOUNT/CONTAINER (e.g. AUTH_test/bucket1)");
    return {text.substr(0, slash), text.substr(slash + 1)};
}

// The config, loaded once when a command needs it.
struct Config {
    cc::Startup start;
    std::unique_ptr<cc::Gateway> gateway;
};

Config load_config(const Options& o) {
    Config c{cc::load_startup(o.config), nullptr};
    c.gateway = std::make_unique<cc::Gateway>(c.start.settings, std::move(c.start.source));
    c.gateway->load();
    return c;
}

std::string state_dir_of(const Options& o, const Config* config) {
    if (!o.state_dir.empty()) return o.state_dir;
    if (config) return config->start.settings.state_dir;
    if (!o.config.empty()) return cc::load_startup(o.config).settings.state_dir;
    throw Failure("--state-dir DIR is required (or --config CONF to take state_dir from it)");
}

// ---------------------------------------------------------------- output helpers

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (unsigned char ch : s) {
        switch (ch) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (ch < 0x20 || ch == 0x7F) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", ch);
                    out += buf;
                } else {
                    out += static_cast<char>(ch);
                }
        }
    }
    return out + "\"";
}

std::string time_or_never(std::time_t t) { return t ? cc::iso8601(t) : "never"; }

std::string json_time(std::time_t t) { return t ? json_string(cc::iso8601(t)) : "null"; }

std::string duration(std::int64_t s) {
    if (s < 0) s = 0;
    char buf[64];
    if (s < 60) std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
    else if (s < 3600) std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
    else if (s < 86400)
        std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s % 3600 / 60));
    else std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(s / 86400), static_cast<long long>(s % 86400 / 3600));
    return buf;
}

std::string unquoted(const std::string& etag) {
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') return etag.substr(1, etag.size() - 2);
    return etag;
}

// A progress bar on a terminal (stdout), nothing otherwise: the callers print
// a plain count at the end either way.
class Progress {
public:
    Progress(std::string label, std::uint64_t expected) : label_(std::move(label)), expected_(expected) {}
    ~Progress() { clear(); }
    void update(std::uint64_t done) {
        if (!tty_) return;
        std::string line = "\r\033[K" + label_ + " ";
        if (expected_ > 0) {
            const int width = 30;
            const std::uint64_t shown = std::min(done, expected_);
            const int filled = static_cast<int>(shown * width / expected_);
            line += "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
            line += std::to_string(done) + "/" + std::to_string(expected_) + " keys";
        } else {
            line += std::to_string(done) + " keys";
        }
        std::fputs(line.c_str(), stdout);
        std::fflush(stdout);
        drawn_ = true;
    }
    // Before printing anything else on stdout.
    void clear() {
        if (!drawn_) return;
        std::fputs("\r\033[K", stdout);
        std::fflush(stdout);
        drawn_ = false;
    }

private:
    std::string label_;
    std::uint64_t expected_;
    bool tty_ = ::isatty(STDOUT_FILENO) != 0;
    bool drawn_ = false;
};

// ---------------------------------------------------------------- paged walks

// Walks a paged listing one entry at a time, holding one page (bounded memory).
class Cursor {
public:
    using Fetch = std::function<cc::ListPage(const std::string& marker)>;
    explicit Cursor(Fetch fetch) : fetch_(std::move(fetch)) { load(""); }
    const cc::ObjectInfo* peek() const { return pos_ < page_.size() ? &page_[pos_].info : nullptr; }
    void next() {
        if (++pos_ < page_.size()) return;
        if (more_) load(marker_);
    }

private:
    void load(std::string marker) {
        page_.clear();
        pos_ = 0;
        for (;;) {
            cc::ListPage p = fetch_(marker);
            for (auto& e : p.entries)
                if (!e.is_prefix) page_.push_back(std::move(e));
            std::string next = p.next_marker;
            if (next.empty() && !p.entries.empty()) next = p.entries.back().info.key;
            more_ = p.truncated && !next.empty() && next > marker;
            marker_ = next;
            if (!page_.empty() || !more_) return;
            marker = next;   // a truncated page with nothing to show: go on
        }
    }
    Fetch fetch_;
    std::vector<cc::ListEntry> page_;
    std::size_t pos_ = 0;
    bool more_ = false;
    std::string marker_;
};

Cursor index_cursor(const cc::PresenceIndex& index, cc::Side side, const Target& t, const std::string& prefix) {
    return Cursor([&index, side, t, prefix](const std::string& marker) {
        return index.list(side, t.account, t.container, cc::ListRequest{prefix, "", marker, 1000});
    });
}

// ---------------------------------------------------------------- read-only commands

struct ReadOnlyIndex {
    std::unique_ptr<rocksdb::DB> db;
    std::unique_ptr<cc::PresenceIndex> index;
};

ReadOnlyIndex open_index(const std::string& state_dir) {
    ReadOnlyIndex r;
    try {
        r.db = cc::StateDir::open_read_only(state_dir);
    } catch (const std::runtime_error& e) {
        throw Failure(e.what());
    }
    r.index = std::make_unique<cc::PresenceIndex>(*r.db);
    return r;
}

bool known(const cc::PresenceIndex& index, const Target& t) {
    for (const auto& [a, c] : index.containers())
        if (a == t.account && c == t.container) return true;
    // Own writes can reach the index before the first refresh records the container.
    for (cc::Side side : {cc::Side::Local, cc::Side::Remote})
        if (!index.list(side, t.account, t.container, cc::ListRequest{"", "", "", 1}).entries.empty()) return true;
    return false;
}

void require_known(const cc::PresenceIndex& index, const Target& t, const std::string& state_dir) {
    if (!known(index, t))
        throw Failure("unknown mapping " + t.name() + ": nothing is indexed for it in " + state_dir +
                      " (not mapped, or not refreshed yet)");
}

int cmd_stats(const Options& o) {
    const std::string dir = state_dir_of(o, nullptr);
    ReadOnlyIndex ix = open_index(dir);
    const std::time_t now = std::time(nullptr);
    std::vector<cc::ContainerStats> all;
    for (const auto& [a, c] : ix.index->containers()) all.push_back(ix.index->stats(a, c));

    auto mapping_last = [](const cc::ContainerStats& s) -> std::time_t {
        const std::time_t l = s.state.of(cc::Side::Local).last_complete, r = s.state.of(cc::Side::Remote).last_complete;
        return (l && r) ? std::min(l, r) : 0;   // a mapping is as fresh as its staler side
    };
    if (o.json) {
        std::string out = "{\"mappings\": [";
        bool first = true;
        for (const auto& s : all) {
            out += first ? "\n  {" : ",\n  {";
            first = false;
            const std::time_t last = mapping_last(s);
            out += "\"account\": " + json_string(s.account) + ", \"container\": " + json_string(s.container);
            for (cc::Side side : {cc::Side::Local, cc::Side::Remote}) {
                const std::string n = cc::side_name(side);
                const int i = static_cast<int>(side);
                const cc::SideState& st = s.state.of(side);
                out += ", \"" + n + "_objects\": " + std::to_string(s.objects[i]);
                out += ", \"" + n + "_bytes\": " + std::to_string(s.bytes[i]);
                out += ", \"" + n + "_last_refresh\": " + json_time(st.last_complete);
                out += ", \"" + n + "_staleness_seconds\": " +
                       (st.last_complete ? std::to_string(now - st.last_complete) : "null");
                out += ", \"" + n + "_refresh_in_progress\": " + (st.in_progress ? "true" : "false");
                out += ", \"" + n + "_last_error\": " + (st.last_error.empty() ? "null" : json_string(st.last_error));
            }
            out += ", \"last_refresh\": " + json_time(last);
            out += ", \"staleness_seconds\": " + (last ? std::to_string(now - last) : std::string("null"));
            out += "}";
        }
        out += first ? "]}\n" : "\n]}\n";
        std::fputs(out.c_str(), stdout);
        return 0;
    }
    if (all.empty()) {
        std::printf("no mappings in the index of %s yet\n", dir.c_str());
        return 0;
    }
    std::vector<std::vector<std::string>> rows{{"MAPPING", "LOCAL OBJECTS", "LOCAL BYTES", "REMOTE OBJECTS",
                                                "REMOTE BYTES", "LAST REFRESH", "STALENESS"}};
    for (const auto& s : all) {
        const std::time_t last = mapping_last(s);
        rows.push_back({s.account + "/" + s.container, std::to_string(s.objects[0]), std::to_string(s.bytes[0]),
                        std::to_string(s.objects[1]), std::to_string(s.bytes[1]), time_or_never(last),
                        last ? duration(now - last) : "never"});
    }
    std::vector<std::size_t> width(rows[0].size(), 0);
    for (const auto& r : rows)
        for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
    for (const auto& r : rows) {
        std::string line;
        for (std::size_t i = 0; i < r.size(); ++i) {
            const bool numeric = i >= 1 && i <= 4;
            const std::string pad(width[i] - r[i].size(), ' ');
            line += numeric ? pad + r[i] : r[i] + (i + 1 < r.size() ? pad : "");
            if (i + 1 < r.size()) line += "  ";
        }
        std::printf("%s\n", line.c_str());
    }
    for (const auto& s : all)
        for (cc::Side side : {cc::Side::Local, cc::Side::Remote}) {
            const cc::SideState& st = s.state.of(side);
            if (!st.last_error.empty())
                std::printf("%s/%s: the last %s refresh failed: %s\n", s.account.c_str(), s.container.c_str(),
                            cc::side_name(side), st.last_error.c_str());
        }
    return 0;
}

// Write-back deliveries still waiting, with why (attempts, last error).
int cmd_pending(const Options& o) {
    const std::string dir = state_dir_of(o, nullptr);
    ReadOnlyIndex ix = open_index(dir);
    const auto pending = cc::WritebackJournal(*ix.db).all();
    const std::time_t now = std::time(nullptr);
    if (o.json) {
        std::string out = "{\"pending\": [";
        bool first = true;
        for (const auto& p : pending) {
            out += first ? "\n  {" : ",\n  {";
            first = false;
            out += "\"account\": " + json_string(p.account) + ", \"container\": " + json_string(p.container) +
                   ", \"key\": " + json_string(p.key) + ", \"etag\": " + json_string(p.etag) +
                   ", \"enqueued\": " + json_time(p.enqueued) + ", \"age_seconds\": " + std::to_string(now - p.enqueued) +
                   ", \"attempts\": " + std::to_string(p.attempts) + ", \"next_attempt\": " + json_time(p.next_attempt) +
                   ", \"last_error\": " + (p.last_error.empty() ? "null" : json_string(p.last_error)) + "}";
        }
        out += first ? "]}\n" : "\n]}\n";
        std::fputs(out.c_str(), stdout);
        return 0;
    }
    if (pending.empty()) {
        std::printf("nothing waiting for write-back in %s\n", dir.c_str());
        return 0;
    }
    for (const auto& p : pending)
        std::printf("%s/%s/%s  etag %s  waiting %s  attempts %u%s%s\n", p.account.c_str(), p.container.c_str(),
                    p.key.c_str(), p.etag.c_str(), duration(now - p.enqueued).c_str(), p.attempts,
                    p.last_error.empty() ? "" : "  last error: ", p.last_error.c_str());
    return 0;
}

std::string json_info(const cc::ObjectInfo* info) {
    if (!info) return "null";
    return "{\"size\": " + std::to_string(info->size) + ", \"etag\": " + json_string(info->etag) +
           ", \"last_modified\": " + json_time(info->last_modified) +
           ", \"content_type\": " + json_string(info->content_type) + "}";
}

const char* where_of(const cc::ObjectInfo* l, const cc::ObjectInfo* r) { return l && r ? "both" : l ? "local" : "remote"; }

int cmd_ls(const Options& o) {
    const Target t = parse_target(o.mapping);
    std::set<std::string> wanted(o.where.begin(), o.where.end());
    if (wanted.empty()) wanted = {"local", "remote", "both"};
    const std::string dir = state_dir_of(o, nullptr);
    ReadOnlyIndex ix = open_index(dir);
    require_known(*ix.index, t, dir);
    Cursor local = index_cursor(*ix.index, cc::Side::Local, t, o.prefix);
    Cursor remote = index_cursor(*ix.index, cc::Side::Remote, t, o.prefix);
    if (o.json)
        std::printf("{\"account\": %s, \"container\": %s, \"objects\": [", json_string(t.account).c_str(),
                    json_string(t.container).c_str());
    bool first = true;
    for (;;) {
        const cc::ObjectInfo* l = local.peek();
        const cc::ObjectInfo* r = remote.peek();
        if (!l && !r) break;
        if (l && r && l->key != r->key) (l->key < r->key ? r : l) = nullptr;
        const std::string key = l ? l->key : r->key;
        const char* where = where_of(l, r);
        if (wanted.count(where)) {
            if (o.json) {
                std::printf("%s\n  {\"key\": %s, \"where\": \"%s\", \"local\": %s, \"remote\": %s}", first ? "" : ",",
                            json_string(key).c_str(), where, json_info(l).c_str(), json_info(r).c_str());
            } else {
                const cc::ObjectInfo& shown = l ? *l : *r;   // the copy a GET serves
                std::printf("%-6s %12llu  %-24s  %-34s  %s\n", where, static_cast<unsigned long long>(shown.size),
                            cc::iso8601(shown.last_modified).c_str(), shown.etag.c_str(), key.c_str());
            }
            first = false;
        }
        if (l) local.next();
        if (r) remote.next();
    }
    if (o.json) std::printf("%s]}\n", first ? "" : "\n");
    return 0;
}

int cmd_show(const Options& o) {
    const Target t = parse_target(o.mapping);
    const std::string dir = state_dir_of(o, nullptr);
    ReadOnlyIndex ix = open_index(dir);
    require_known(*ix.index, t, dir);
    const auto l = ix.index->get(cc::Side::Local, t.account, t.container, o.key);
    const auto r = ix.index->get(cc::Side::Remote, t.account, t.container, o.key);
    if (!l && !r) {
        std::fprintf(stderr, "cc-index: '%s' is not in the index of %s (on neither side)\n", o.key.c_str(),
                     t.name().c_str());
        return kDifferent;
    }
    const cc::ObjectInfo* lp = l ? &*l : nullptr;
    const cc::ObjectInfo* rp = r ? &*r : nullptr;
    if (o.json) {
        std::printf("{\"account\": %s, \"container\": %s, \"key\": %s, \"where\": \"%s\", \"local\": %s, \"remote\": %s}\n",
                    json_string(t.account).c_str(), json_string(t.container).c_str(), json_string(o.key).c_str(),
                    where_of(lp, rp), json_info(lp).c_str(), json_info(rp).c_str());
        return 0;
    }
    std::printf("mapping: %s\nkey:     %s\nwhere:   %s\n", t.name().c_str(), o.key.c_str(), where_of(lp, rp));
    for (cc::Side side : {cc::Side::Local, cc::Side::Remote}) {
        const cc::ObjectInfo* info = side == cc::Side::Local ? lp : rp;
        if (!info) {
            std::printf("%-7s  absent\n", (std::string(cc::side_name(side)) + ":").c_str());
            continue;
        }
        std::printf("%-7s  size %llu, etag %s, last modified %s, content type %s\n",
                    (std::string(cc::side_name(side)) + ":").c_str(), static_cast<unsigned long long>(info->size),
                    info->etag.c_str(), cc::iso8601(info->last_modified).c_str(),
                    info->content_type.empty() ? "-" : info->content_type.c_str());
    }
    return 0;
}

// ---------------------------------------------------------------- commands that read the stores

struct Stores {
    const cc::MappingEntry* entry = nullptr;
    const cc::User* user = nullptr;   // nullptr: no user of the account, the remote side cannot be read
};

Stores resolve(const Config& config, const Target& t) {
    auto snapshot = config.gateway->snapshot();
    Stores s;
    s.entry = snapshot->mapping.resolve(t.account, t.container);
    if (!s.entry)
        throw Failure("unknown mapping " + t.name() + ": no entry of " +
                      config.start.settings.mapping_file + " covers it");
    s.user = snapshot->users.any_user_of(t.account);
    return s;
}

cc::StorePtr store_of(const Config& config, const Stores& s, const Target& t, cc::Side side) {
    const cc::Settings& settings = config.start.settings;
    return side == cc::Side::Local ? cc::make_local_store(*s.entry, t.container, settings)
                                   : cc::make_remote_store(*s.user, t.container, settings);
}

int cmd_verify(const Options& o) {
    cc::open_file_stores_read_only();   // an embedded file store may belong to the running server
    const Target t = parse_target(o.mapping);
    Config config = load_config(o);
    const std::string dir = state_dir_of(o, &config);
    ReadOnlyIndex ix = open_index(dir);
    const Stores stores = resolve(config, t);
    if (!stores.user)
        throw Failure("no user of account " + t.account + " in " + config.start.settings.users_file +
                      ": the remote side cannot be listed");
    const cc::ContainerStats counts = ix.index->stats(t.account, t.container);
    std::uint64_t differences = 0;
    for (cc::Side side : {cc::Side::Local, cc::Side::Remote}) {
        const std::string name = cc::side_name(side);
        cc::StorePtr store = store_of(config, stores, t, side);
        Progress progress("verifying " + name, counts.objects[static_cast<int>(side)]);
        std::uint64_t checked = 0, side_diffs = 0;
        auto report = [&](const std::string& line) {
            progress.clear();
            std::printf("%s\n", line.c_str());
            ++side_diffs;
        };
        try {
            Cursor indexed = index_cursor(*ix.index, side, t, "");
            Cursor live([&store](const std::string& marker) { return store->list(cc::ListRequest{"", "", marker, 1000}); });
            for (;;) {
                const cc::ObjectInfo* a = indexed.peek();
                const cc::ObjectInfo* b = live.peek();
                if (!a && !b) break;
                if (a && (!b || a->key < b->key)) {
                    report("only in index: " + name + " " + a->key);
                    indexed.next();
                } else if (b && (!a || b->key < a->key)) {
                    report("only in " + name + " store: " + b->key);
                    live.next();
                } else {
                    if (a->size != b->size || unquoted(a->etag) != unquoted(b->etag))
                        report("size/etag differs: " + name + " " + a->key + " (index " + std::to_string(a->size) +
                               " bytes " + a->etag + ", store " + std::to_string(b->size) + " bytes " + b->etag + ")");
                    indexed.next();
                    live.next();
                }
                if (++checked % 200 == 0) progress.update(checked);
            }
        } catch (const cc::S3Error& e) {
            throw Failure("listing the " + name + " store of " + t.name() + " failed: " + cc::for_log(e));
        }
        progress.clear();
        std::printf("%s: %llu keys checked, %llu differences\n", name.c_str(), static_cast<unsigned long long>(checked),
                    static_cast<unsigned long long>(side_diffs));
        differences += side_diffs;
    }
    if (differences) {
        std::printf("the index of %s differs from the stores (%llu differences)\n", t.name().c_str(),
                    static_cast<unsigned long long>(differences));
        return kDifferent;
    }
    std::printf("the index of %s matches both stores\n", t.name().c_str());
    return 0;
}

// Counts what a refresh pass lists, for the progress bar.
class CountingStore : public cc::ObjectStore {
public:
    CountingStore(cc::StorePtr inner, Progress& progress) : inner_(std::move(inner)), progress_(progress) {}
    cc::ReadResult head(const std::string& key, const cc::ReadOptions& opts) override { return inner_->head(key, opts); }
    cc::ReadResult get(const std::string& key, const cc::ReadOptions& opts, cc::BodySink& sink) override {
        return inner_->get(key, opts, sink);
    }
    cc::Stored put(const std::string& key, const cc::WriteOptions& opts, cc::BodySource& body) override {
        return inner_->put(key, opts, body);
    }
    void remove(const std::string& key) override { inner_->remove(key); }
    std::optional<std::string> replace_metadata(const std::string& key, const cc::WriteOptions& opts) override {
        return inner_->replace_metadata(key, opts);
    }
    cc::ListPage list(const cc::ListRequest& req) override {
        cc::ListPage page = inner_->list(req);
        for (const auto& e : page.entries) count += e.is_prefix ? 0 : 1;
        progress_.update(count);
        return page;
    }
    std::string side() const override { return inner_->side(); }
    std::uint64_t count = 0;

private:
    cc::StorePtr inner_;
    Progress& progress_;
};

int cmd_rebuild(const Options& o) {
    cc::open_file_stores_read_only();   // it only lists the stores
    const Target t = parse_target(o.mapping);
    Config config = load_config(o);
    const std::string dir = state_dir_of(o, &config);
    {
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec)) throw Failure("state dir " + dir + ": no such directory");
    }
    const Stores stores = resolve(config, t);
    const std::string busy = "the index is busy (a cloud-connector process holds " + dir +
                             "/db); stop it or run rebuild against a copy";
    // Checked before opening: a failed read-write open would still rotate the holder's LOG file.
    if (const long pid = cc::StateDir::lock_holder(dir))
        throw Failure(pid > 0 ? "the index is busy (a cloud-connector process, pid " + std::to_string(pid) +
                                    ", holds " + dir + "/db); stop it or run rebuild against a copy"
                              : busy);
    std::unique_ptr<cc::StateDir> state;
    try {
        state = std::make_unique<cc::StateDir>(dir);
    } catch (const std::runtime_error& e) {
        if (std::string(e.what()).find("lock") != std::string::npos) throw Failure(busy);
        throw Failure(e.what());
    }
    cc::PresenceIndex index(state->db());
    const cc::ContainerStats before = index.stats(t.account, t.container);
    index.clear(t.account, t.container);
    cc::IndexRefresher refresher(*config.gateway, index, 1);
    std::uint64_t found[2] = {0, 0};
    for (cc::Side side : {cc::Side::Local, cc::Side::Remote}) {
        const std::string name = cc::side_name(side);
        if (side == cc::Side::Remote && !stores.user) {
            std::fprintf(stderr, "cc-index: no user of account %s in %s: the remote side was not indexed\n",
                         t.account.c_str(), config.start.settings.users_file.c_str());
            continue;
        }
        Progress progress("rebuilding " + name, before.objects[static_cast<int>(side)]);
        CountingStore store(store_of(config, stores, t, side), progress);
        const bool ok = refresher.refresh_side(t.account, t.container, side, store);
        progress.clear();
        if (!ok)
            throw Failure("rebuild of " + t.name() + ": listing the " + name + " store failed: " +
                          index.state(t.account, t.container).of(side).last_error);
        found[static_cast<int>(side)] = store.count;
        std::printf("%s: %llu objects indexed\n", name.c_str(), static_cast<unsigned long long>(store.count));
    }
    std::printf("the index of %s is rebuilt: %llu local, %llu remote objects\n", t.name().c_str(),
                static_cast<unsigned long long>(found[0]), static_cast<unsigned long long>(found[1]));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "cc-index: inspect and repair the presence index of a cloud-connector state dir (which objects the\n"
        "local and the remote store of every mapped container hold).\n\n"
        "stats, ls and show read the index only; verify and rebuild also list the stores, which they find\n"
        "through the same config as the server (--config CONF, or the CONF_* environment of cloud-connector).\n"
        "The read-only commands (stats, ls, show, verify) take no lock: they work next to a running server,\n"
        "never block it, and see the index as of their start. rebuild writes: it refuses to run while a\n"
        "server holds the state dir.",
        "cc-index"};
    const std::string exit_status =
        "Exit status: 0 success; 1 verify found differences, or show found the key on neither side;\n"
        "2 an error (no such state dir, unknown or malformed mapping, index busy, a store failed),\n"
        "reported as one line on stderr.";
    app.footer(exit_status);
    app.require_subcommand(1);
    app.fallthrough();
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
        return std::string("cc-index: ") + e.what() + " (see --help)\n";
    });
    Options o;
    app.add_option("--state-dir", o.state_dir,
                   "The server's state_dir (the directory holding db/); defaults to state_dir of --config")
        ->type_name("DIR");
    app.add_option("-c,--config", o.config,
                   "The server's main config file; needed by verify and rebuild (to reach the stores), which\n"
                   "otherwise read it from the config bucket named by CONF_BUCKET/CONF_ENDPOINT/CONF_NAME")
        ->type_name("CONF");
    app.set_version_flag("--version", "cc-index 0.1.0");

    const char* mapping_help = "The mapped container: Swift account and container, e.g. AUTH_test/bucket1";

    auto* stats = app.add_subcommand(
        "stats", "Per indexed container: objects and bytes on each side (a key in both counts in both),\n"
                 "the last completed refresh (of the staler side) and its age");
    stats->add_flag("--json", o.json,
                    "Print {\"mappings\": [{\"account\", \"container\", \"local_objects\", \"remote_objects\",\n"
                    "\"local_bytes\", \"remote_bytes\", \"last_refresh\", \"staleness_seconds\", and per side\n"
                    "<side>_last_refresh, <side>_staleness_seconds, <side>_refresh_in_progress, <side>_last_error}]}");

    auto* ls = app.add_subcommand("ls", "List the keys the index holds for one container, in key order, with the side\n"
                                        "(local, remote or both) and the size, time and ETag of the copy a GET serves");
    ls->add_option("mapping", o.mapping, mapping_help)->required()->type_name("ACCOUNT/CONTAINER");
    ls->add_option("--prefix", o.prefix, "Only keys that start with P")->type_name("P");
    ls->add_option("--where", o.where,
                   "Only keys that are exactly on this side: local (local only), remote (remote only) or both;\n"
                   "repeat to combine (--where local --where both = every key with a local copy)")
        ->check(CLI::IsMember({"local", "remote", "both"}))
        ->type_name("WHERE");
    ls->add_flag("--json", o.json,
                 "Print {\"account\", \"container\", \"objects\": [{\"key\", \"where\", \"local\", \"remote\"}]},\n"
                 "each side {\"size\", \"etag\", \"last_modified\", \"content_type\"} or null");

    auto* show = app.add_subcommand("show", "Show what the index records for one key on each side (exit 1 when on neither)");
    show->add_option("mapping", o.mapping, mapping_help)->required()->type_name("ACCOUNT/CONTAINER");
    show->add_option("key", o.key, "The object key (as clients name it)")->required()->type_name("KEY");
    show->add_flag("--json", o.json,
                   "Print {\"account\", \"container\", \"key\", \"where\", \"local\", \"remote\"}, each side\n"
                   "{\"size\", \"etag\", \"last_modified\", \"content_type\"} or null");

    auto* verify = app.add_subcommand(
        "verify", "Compare the index of one container with live listings of both stores (needs the config);\n"
                  "print every difference and exit 1 if there is any. Shows a progress bar on a terminal.");
    verify->add_option("mapping", o.mapping, mapping_help)->required()->type_name("ACCOUNT/CONTAINER");

    auto* rebuild = app.add_subcommand(
        "rebuild", "Drop the index of one container and list both stores again (needs the config and the\n"
                   "state dir's lock: stop the server first). Shows a progress bar on a terminal.");
    rebuild->add_option("mapping", o.mapping, mapping_help)->required()->type_name("ACCOUNT/CONTAINER");

    auto* pending = app.add_subcommand(
        "pending", "List the objects waiting for write-back delivery to the on-prem store, with how long they\n"
                   "have waited, how many attempts failed and the last error");
    pending->add_flag("--json", o.json,
                      "Print {\"pending\": [{\"account\", \"container\", \"key\", \"etag\", \"enqueued\",\n"
                      "\"age_seconds\", \"attempts\", \"next_attempt\", \"last_error\"}]}");

    // The program's options go before or after the subcommand; each subcommand's help says which it uses.
    const std::string index_only =
        "Reads the index only: --state-dir DIR (the server's state_dir), or --config CONF to take state_dir\n"
        "from the server's config. Takes no lock; safe next to a running server.\n\n";
    const std::string with_stores =
        "Reaches the stores through the server's config: --config CONF, or without it the config bucket of\n"
        "CONF_BUCKET/CONF_ENDPOINT/CONF_NAME; --state-dir DIR defaults to the config's state_dir.\n\n";
    for (auto* sub : {stats, ls, show, pending}) sub->footer(index_only + exit_status);
    verify->footer(with_stores + "Takes no lock; safe next to a running server.\n\n" + exit_status);
    rebuild->footer(with_stores + "Takes the state dir's lock: refused (exit 2) while a server holds it.\n\n" +
                    exit_status);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : kError;   // --help, --version: 0; bad usage: one line (failure_message)
    }

    std::signal(SIGPIPE, SIG_IGN);
    cc::log::set_level(cc::log::Level::Error);   // the engine's progress logs are not for a terminal
    try {
        if (stats->parsed()) return cmd_stats(o);
        if (ls->parsed()) return cmd_ls(o);
        if (show->parsed()) return cmd_show(o);
        if (pending->parsed()) return cmd_pending(o);
        cc::http_global_init();
        if (verify->parsed()) return cmd_verify(o);
        if (rebuild->parsed()) return cmd_rebuild(o);
    } catch (const Poco::Exception& e) {
        std::fprintf(stderr, "cc-index: %s\n", e.displayText().c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cc-index: %s\n", e.what());
    }
    std::fflush(stdout);
    return kError;
}
