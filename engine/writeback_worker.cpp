#include "engine/writeback_worker.h"

#include "common/log.h"
#include "common/metrics.h"
#include "common/s3error.h"
#include "engine/write_policy_store.h"

namespace cc {

WritebackWorker::WritebackWorker(Gateway& gateway, WritebackJournal& journal)
    : gateway_(gateway), journal_(journal),
      task_("write-back", [this] { deliver_due(); }, std::chrono::seconds(1), /*run_first=*/true) {}
WritebackWorker::~WritebackWorker() { stop(); }

std::size_t WritebackWorker::deliver_due() {
    const std::time_t now = std::time(nullptr);
    std::size_t delivered = 0;
    for (const PendingUpload& p : journal_.due(now, 256)) {
        if (task_.stopping()) break;
        auto snapshot = gateway_.snapshot();
        const MappingEntry* entry = snapshot->mapping.resolve(p.account, p.container);
        const User* user = snapshot->users.find(p.access_key);
        if (!user || user->account != p.account) user = snapshot->users.any_user_of(p.account);
        if (!entry || !user) {
            journal_.failed(p, !entry ? "no mapping covers this container any more" : "no user of this account");
            continue;
        }
        try {
            StorePtr local = make_local_store(*entry, p.container, gateway_.settings());
            StorePtr remote = make_remote_store(*user, p.container, gateway_.settings());
            if (!deliver_to_remote(*local, *remote, p.key))
                log::info("write-back of ", p.account, "/", p.container, "/", p.key,
                          ": the local copy is gone (deleted since), nothing to deliver");
            journal_.done(p);
            ++delivered;
        } catch (const std::exception& e) {
            journal_.failed(p, for_log(e));
            log::warning("write-back of ", p.account, "/", p.container, "/", p.key, " failed (attempt ",
                         p.attempts + 1, "), will retry: ", for_log(e));
        }
    }
    // Queue depth and the age of the oldest pending write, for alerting.
    const auto pending = journal_.all();
    std::time_t oldest = 0;
    for (const auto& p : pending)
        if (!oldest || p.enqueued < oldest) oldest = p.enqueued;
    metrics::set("cc_writeback_queue_depth", {}, static_cast<double>(pending.size()));
    metrics::set("cc_writeback_oldest_age_seconds", {}, oldest ? static_cast<double>(std::time(nullptr) - oldest) : 0);
    return delivered;
}

}  // namespace cc
