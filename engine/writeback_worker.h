// Delivers the write-back journal: every second (or when woken by a write),
// takes the records that are due, copies each object's current local version
// to the on-prem store with the writer's credentials, and clears the record,
// or records the failure and backs off. Survives restarts: the journal is in
// RocksDB and the worker starts with whatever is pending.
#pragma once
#include "engine/gateway.h"
#include "engine/periodic_task.h"
#include "engine/writeback_journal.h"

namespace cc {

class WritebackWorker {
public:
    WritebackWorker(Gateway& gateway, WritebackJournal& journal);
    ~WritebackWorker();
    void start() { task_.start(); }
    void stop() { task_.stop(); }
    void wake() { task_.wake(); }
    std::size_t deliver_due();   // one round on the calling thread; returns how many were delivered

private:
    Gateway& gateway_;
    WritebackJournal& journal_;
    PeriodicTask task_;   // last: it runs rounds that use the members above
};

}  // namespace cc
