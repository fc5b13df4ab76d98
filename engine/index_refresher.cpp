#include "engine/index_refresher.h"

#include <set>

#include "common/log.h"
#include "common/metrics.h"
#include "common/s3error.h"
#include "storage/s3_store.h"

namespace cc {

IndexRefresher::IndexRefresher(Gateway& gateway, PresenceIndex& index, int interval_seconds)
    : gateway_(gateway), index_(index),
      task_("index refresh", [this] { refresh_all(); }, std::chrono::seconds(interval_seconds), /*run_first=*/true) {}

IndexRefresher::~IndexRefresher() { stop(); }

bool IndexRefresher::refresh_side(const std::string& account, const std::string& container, Side side,
                                  ObjectStore& store) {
    ContainerState st = index_.state(account, container);
    SideState& s = st.of(side);
    if (!s.in_progress) {   // a new pass; otherwise resume the interrupted one at its cursor
        ++s.pass;
        s.in_progress = true;
        s.cursor.clear();
        index_.save_state(account, container, st);
    }
    const std::uint64_t pass = s.pass;
    std::string marker = s.cursor;
    try {
        for (;;) {
            if (task_.stopping()) return false;
            ListPage page = store.list(ListRequest{"", "", marker, 1000});
            index_.record_page(side, account, container, page.entries, pass);
            if (!page.truncated || page.next_marker.empty() || page.next_marker <= marker) break;
            marker = page.next_marker;
        }
    } catch (const std::exception& e) {
        ContainerState now = index_.state(account, container);
        now.of(side).last_error = for_log(e);
        index_.save_state(account, container, now);
        log::warning("index refresh of ", account, "/", container, " (", side_name(side), ") failed: ", for_log(e));
        return false;
    }
    const std::uint64_t dropped = index_.drop_unseen(side, account, container, pass);
    ContainerState done = index_.state(account, container);
    done.of(side).in_progress = false;
    done.of(side).cursor.clear();
    done.of(side).last_error.clear();
    done.of(side).last_complete = std::time(nullptr);
    index_.save_state(account, container, done);
    log::debug("index refresh of ", account, "/", container, " (", side_name(side), ") complete: pass ", pass,
               ", dropped ", dropped);
    return true;
}

void IndexRefresher::refresh_all() {
    auto snapshot = gateway_.snapshot();
    const Settings& settings = gateway_.settings();
    std::set<std::pair<std::string, std::string>> done;
    for (const MappingEntry& entry : snapshot->mapping.entries()) {
        // The remote side is read with the rights of a user of that account.
        const User* user = snapshot->users.any_user_of(entry.account);
        std::vector<std::string> containers;
        if (!entry.is_wildcard()) {
            containers.push_back(entry.container);
        } else if (user) {
            // "/*": every container of the account the on-prem cluster has, plus those already indexed.
            try {
                S3Location where{settings.swift_baseurl, "", settings.remote_region, "remote",
                                 {settings.backend_connect_timeout, settings.backend_timeout}};
                Credentials creds{user->access_key, user->secret_key, ""};
                for (auto& b : S3Store(where, [creds] { return creds; }).list_buckets()) containers.push_back(std::move(b.name));
            } catch (const std::exception& e) {
                log::warning("index refresh: cannot list the containers of ", entry.account, ": ", for_log(e));
            }
            for (const auto& [a, c] : index_.containers())
                if (a == entry.account) containers.push_back(c);
        }
        for (const std::string& container : containers) {
            if (!done.insert({entry.account, container}).second) continue;
            // The entry that actually serves this container (an exact entry wins over "/*").
            const MappingEntry* serving = snapshot->mapping.resolve(entry.account, container);
            if (!serving) continue;
            try {
                StorePtr local = make_local_store(*serving, container, settings);
                refresh_side(entry.account, container, Side::Local, *local);
                if (user) {
                    StorePtr remote = make_remote_store(*user, container, settings);
                    refresh_side(entry.account, container, Side::Remote, *remote);
                }
            } catch (const std::exception& e) {
                log::warning("index refresh of ", entry.account, "/", container, " failed: ", for_log(e));
            }
            const ContainerState st = index_.state(entry.account, container);
            for (Side side : {Side::Local, Side::Remote}) {
                const std::time_t t = st.of(side).last_complete;
                if (t)
                    metrics::set("cc_index_staleness_seconds",
                                 {{"account", entry.account}, {"container", container}, {"side", side_name(side)}},
                                 static_cast<double>(std::time(nullptr) - t));
            }
        }
    }
}

}  // namespace cc
