// One cache fill: the bytes a client is receiving from the remote store are
// also written, on a helper thread, into the local store. The client's stream
// never waits for the fill: if the local store falls behind by more than the
// pipe's capacity, or anything fails, the fill is abandoned and the local
// upload aborted before its last byte, so no partial object is ever stored.
// At most one fill per object runs at a time in the process.
#pragma once
#include <memory>
#include <string>

#include "storage/object_store.h"

namespace cc {

class CacheFill {
public:
    // Returns nullptr when another fill of `fill_id` is already running.
    // `only_if_absent`: the read that feeds the fill did not ask the local store
    // (read_routing = index), so the fill first checks that no local copy exists,
    // and stores nothing if one does: it may be newer than the on-prem original.
    static std::unique_ptr<CacheFill> start(ObjectStore& local, const std::string& fill_id, const std::string& key,
                                            WriteOptions opts, std::uint64_t length, bool only_if_absent = false);
    // A write of the key through this instance is about to start: a fill of it
    // still reading its body is aborted (nothing stored), and one that is
    // already committing is waited for, so the write always lands after it.
    static void supersede(const std::string& fill_id);
    ~CacheFill();
    void offer(const char* data, std::size_t len);   // never blocks
    // Ends the fill: true if the whole object was stored locally.
    bool finish(bool all_bytes_offered);

    struct State;   // shared by the client's thread, the fill's worker and supersede()

private:
    CacheFill() = default;
    std::shared_ptr<State> state_;
};

}  // namespace cc
