#include "engine/gateway.h"

#include <chrono>
#include <map>

#include "common/log.h"
#include "common/metrics.h"
#include "common/s3error.h"
#include "engine/caching_store.h"
#include "engine/conditional_store.h"
#include "engine/layout.h"
#include "engine/layout_store.h"
#include "engine/merged_store.h"
#include "engine/write_policy_store.h"
#include "storage/file_store.h"
#include "storage/s3_store.h"
#include "storage/swift_store.h"

namespace cc {

Gateway::Gateway(Settings settings, std::unique_ptr<ConfigSource> source)
    : settings_(std::move(settings)), source_(std::move(source)),
      reloader_("config reload", [this] { reload(); }, std::chrono::seconds(settings_.reload_interval),
                /*run_first=*/false) {}

Gateway::~Gateway() { stop(); }

namespace {

// Fetches and parses one file of the snapshot into `value`/`version`; false if
// it is unchanged. At start-up (no previous snapshot) a failure is fatal; on
// reload it is logged and that file's last good version kept, so a broken user
// database neither holds back nor hides a good new mapping (and the reverse).
template <class T, class Parse>
bool read_part(ConfigSource& source, const std::string& name, const ConfigSnapshot* previous,
               const std::string& known_version, Parse parse, T& value, std::string& version) {
    try {
        auto file = source.fetch(name, known_version);
        if (!file) return false;
        try {
            value = parse(file->content);
        } catch (const std::exception& e) {
            throw std::runtime_error(source.describe(name) + ": " + for_log(e));
        }
        version = file->version;
        return true;
    } catch (const std::exception& e) {
        if (!previous) throw;
        log::error("CONFIG RELOAD FAILED, keeping the last good version of ", name, ": ", for_log(e));
        metrics::add("cc_config_reload_failures_total", {});
        return false;
    }
}

}  // namespace

std::shared_ptr<const ConfigSnapshot> Gateway::read(const ConfigSnapshot* previous) {
    auto next = std::make_shared<ConfigSnapshot>();
    if (previous) *next = *previous;
    const bool users_changed = read_part(
        *source_, settings_.users_file, previous, previous ? previous->users_version : "",
        [](const std::string& text) { return UserDb::parse(text); }, next->users, next->users_version);
    const bool mapping_changed = read_part(
        *source_, settings_.mapping_file, previous, previous ? previous->mapping_version : "",
        [](const std::string& text) { return Mapping::parse(text); }, next->mapping, next->mapping_version);
    if (!users_changed && !mapping_changed) return nullptr;   // nothing (good) changed
    return next;
}

void Gateway::load() {
    auto first = read(nullptr);
    std::lock_guard lock(snapshot_mutex_);
    snapshot_ = first;
    log::info("loaded ", snapshot_->users.size(), " users and ", snapshot_->mapping.entries().size(),
              " mapping entries");
}

bool Gateway::reload() {
    auto current = snapshot();
    std::shared_ptr<const ConfigSnapshot> next;
    try {
        next = read(current.get());
    } catch (const std::exception& e) {
        log::error("CONFIG RELOAD FAILED, keeping the last good user database and mapping: ", for_log(e));
        metrics::add("cc_config_reload_failures_total", {});
        return false;
    }
    if (!next) return false;
    {
        std::lock_guard lock(snapshot_mutex_);
        snapshot_ = next;
    }
    log::info("config reloaded: ", next->users.size(), " users, ", next->mapping.entries().size(),
              " mapping entries");
    metrics::add("cc_config_reloads_total", {});
    if (on_reload_) on_reload_();
    return true;
}

void Gateway::start_reloading() { reloader_.start(); }

void Gateway::stop() { reloader_.stop(); }

std::shared_ptr<const ConfigSnapshot> Gateway::snapshot() const {
    std::lock_guard lock(snapshot_mutex_);
    return snapshot_;
}

StorePtr make_local_store(const MappingEntry& entry, const std::string& container, const Settings& settings) {
    HttpTimeouts timeouts{settings.backend_connect_timeout, settings.backend_timeout};
    StorePtr raw;
    std::optional<std::string> dir;
    try {
        dir = file_store_dir(entry.aws_endpoint);
    } catch (const std::invalid_argument& e) {
        throw unavailable("local store: the mapping's aws_endpoint is not usable (see the log)",
                          entry.account + "/" + container + ": " + e.what());
    }
    if (dir) {
        // The embedded store on a persistent volume; the aws_bucket is its namespace, no credentials.
        raw = std::make_shared<FileStore>(FileLocation{*dir, entry.aws_bucket, settings.file_store_max_bytes, "local"});
    } else if (entry.protocol == "swift") {
        raw = std::make_shared<SwiftStore>(
            SwiftLocation{entry.aws_endpoint, entry.aws_bucket, entry.aws_identity, entry.aws_secret, "local", timeouts});
    } else {
        S3Location where;
        where.endpoint = entry.aws_endpoint.empty()
                             ? (entry.aws_region == "us-east-1" ? std::string("https://s3.amazonaws.com")
                                                                : "https://s3." + entry.aws_region + ".amazonaws.com")
                             : entry.aws_endpoint;
        while (!where.endpoint.empty() && where.endpoint.back() == '/') where.endpoint.pop_back();
        where.bucket = entry.aws_bucket;
        where.region = entry.aws_region;
        where.side = "local";
        where.timeouts = timeouts;
        Credentials creds{entry.aws_identity, entry.aws_secret, ""};
        raw = std::make_shared<S3Store>(where, [creds] { return creds; });
    }
    return std::make_shared<LayoutStore>(raw, layout::object_prefix(entry.account, container, entry.custom_prefix),
                                         entry.custom_prefix.has_value());
}

StorePtr make_remote_store(const User& user, const std::string& container, const Settings& settings) {
    S3Location where;
    where.endpoint = settings.swift_baseurl;
    where.bucket = container;
    where.region = settings.remote_region;
    where.side = "remote";
    where.timeouts = {settings.backend_connect_timeout, settings.backend_timeout};
    // The on-prem cluster is addressed with the client's own credentials, so
    // it enforces the same rights it would if the client talked to it directly.
    Credentials creds{user.access_key, user.secret_key, ""};
    return std::make_shared<S3Store>(where, [creds] { return creds; });
}

BucketRoute Gateway::open_bucket(const User& user, const std::string& bucket) const {
    BucketRoute route;
    route.snapshot = snapshot();
    route.entry = route.snapshot->mapping.resolve(user.account, bucket);
    route.container = bucket;
    if (!route.entry) {
        S3Error e(404, "NoSuchBucket",
                  "The specified bucket does not exist: no 1space mapping covers container '" + bucket +
                      "' of account '" + user.account + "'");
        e.detail_name = "BucketName";
        e.detail_value = bucket;
        throw e;
    }
    StorePtr local = make_local_store(*route.entry, bucket, settings_);
    StorePtr remote = make_remote_store(user, bucket, settings_);
    MergedStore::RemoteFirst remote_first;
    if (index_) {
        auto indexed_local =
            std::make_shared<IndexedStore>(local, *index_, index_policy_, Side::Local, user.account, bucket);
        local = indexed_local;
        remote = std::make_shared<IndexedStore>(remote, *index_, index_policy_, Side::Remote, user.account, bucket);
        // read_routing = index: skip the local lookup of keys the fresh index has no local copy of.
        // Names the local listing hides (SLO manifest area) never reach the index
        // through a refresh pass, so its silence about them means nothing: local first.
        if (route.entry->cc_read_routing.value_or(settings_.read_routing) == "index" &&
            index_policy_.mode != ListingMode::Live)
            remote_first = [indexed_local, custom_prefix = route.entry->custom_prefix](const std::string& key) {
                return !layout::is_hidden_name(key, custom_prefix) && indexed_local->known_absent(key);
            };
    }
    StorePtr merged = std::make_shared<MergedStore>(local, remote, std::move(remote_first));
    const WritePolicy writes = parse_write_policy(route.entry->cc_write_policy.value_or(settings_.write_policy));
    if (writes != WritePolicy::Local) {
        PendingUpload writer;
        writer.account = user.account;
        writer.container = bucket;
        writer.access_key = user.access_key;
        merged = std::make_shared<WritePolicyStore>(merged, local, remote, writes, journal_, writer, wake_writeback_);
    }
    const CachePolicy cache{route.entry->cc_cache_on_read.value_or(settings_.cache_on_read),
                            settings_.cache_max_object_size, settings_.cache_revalidate_after};
    merged = std::make_shared<CachingStore>(merged, local, remote, cache, user.account + "/" + bucket);
    route.store = std::make_shared<ConditionalStore>(merged);
    return route;
}

bool Gateway::bucket_exists(const User& user, const BucketRoute& route) const {
    if (!route.entry->is_wildcard()) return true;
    S3Location where{settings_.swift_baseurl, route.container, settings_.remote_region, "remote",
                     {settings_.backend_connect_timeout, settings_.backend_timeout}};
    Credentials creds{user.access_key, user.secret_key, ""};
    return S3Store(where, [creds] { return creds; }).bucket_exists();
}

std::vector<S3Store::Bucket> Gateway::buckets_of(const User& user) const {
    std::map<std::string, std::time_t> out;   // name -> created, sorted by name
    bool wildcard = false;
    for (const auto& e : snapshot()->mapping.entries()) {
        if (e.account != user.account) continue;
        if (e.is_wildcard()) wildcard = true;
        else out.emplace(e.container, 0);
    }
    // The on-prem cluster says when its containers were created and, for "/*"
    // (every container of the account), which exist.
    S3Location where{settings_.swift_baseurl, "", settings_.remote_region, "remote",
                     {settings_.backend_connect_timeout, settings_.backend_timeout}};
    Credentials creds{user.access_key, user.secret_key, ""};
    try {
        for (auto& b : S3Store(where, [creds] { return creds; }).list_buckets())
            if (auto it = out.find(b.name); it != out.end()) it->second = b.created;
            else if (wildcard) out.emplace(std::move(b.name), b.created);
    } catch (const std::exception& e) {
        if (wildcard) throw;   // the list itself needs the answer: an error, never a partial list
        log::warning("ListBuckets: no creation dates from the on-prem cluster: ", for_log(e));
    }
    std::vector<S3Store::Bucket> buckets;
    for (auto& [name, created] : out) buckets.push_back({name, created});
    return buckets;
}

}  // namespace cc
