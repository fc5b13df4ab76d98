// Keeps the presence index fresh: at start, after every config reload and
// every index_refresh_interval, pages through both stores' listings of every
// mapped container (bounded memory: one page at a time), recording what each
// pass saw and, once a pass completes, dropping what it no longer saw. A pass
// interrupted by a crash resumes from its last recorded page. Runs on its own
// thread: requests never wait for it.
#pragma once
#include "engine/gateway.h"
#include "engine/periodic_task.h"
#include "engine/presence_index.h"

namespace cc {

class IndexRefresher {
public:
    IndexRefresher(Gateway& gateway, PresenceIndex& index, int interval_seconds);
    ~IndexRefresher();
    void start() { task_.start(); }
    void stop() { task_.stop(); }
    void wake() { task_.wake(); }   // run a round now (config reload)
    void refresh_all();     // one round, on the calling thread
    // One side of one container; returns false (and records why) if the store failed.
    bool refresh_side(const std::string& account, const std::string& container, Side side, ObjectStore& store);

private:
    Gateway& gateway_;
    PresenceIndex& index_;
    PeriodicTask task_;   // last: it runs rounds that use the members above
};

}  // namespace cc
