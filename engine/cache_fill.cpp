#include "engine/cache_fill.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "common/log.h"
#include "common/metrics.h"
#include "common/request_context.h"
#include "common/s3error.h"

namespace cc {
namespace {

constexpr std::size_t kPipeCapacity = 32u << 20;

}  // namespace

struct CacheFill::State : BodySource {
    std::mutex m;
    std::condition_variable cv;
    std::deque<std::string> chunks;
    std::size_t buffered = 0, offset = 0;
    std::uint64_t expected = 0, delivered = 0;
    bool closed = false, abandoned = false, stored = false, skipped = false;
    bool done = false;   // the worker has returned: nothing more reaches the local store
    std::string id;
    std::thread worker;

    std::size_t read(char* buf, std::size_t len) override {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return !chunks.empty() || closed || abandoned; });
        if (abandoned) throw S3Error(503, "ServiceUnavailable", "cache fill abandoned");
        if (chunks.empty()) {
            if (delivered < expected) throw S3Error(503, "ServiceUnavailable", "cache fill source ended early");
            return 0;
        }
        std::string& front = chunks.front();
        std::size_t n = std::min(len, front.size() - offset);
        std::copy_n(front.data() + offset, n, buf);
        offset += n;
        delivered += n;
        if (offset == front.size()) {
            buffered -= front.size();
            chunks.pop_front();
            offset = 0;
        }
        return n;
    }
    std::uint64_t length() const override { return expected; }
};

namespace {
std::mutex g_running_mutex;
std::map<std::string, std::shared_ptr<CacheFill::State>> g_running;   // fills in progress, by fill id
}  // namespace

void CacheFill::supersede(const std::string& fill_id) {
    std::shared_ptr<State> st;
    {
        std::lock_guard lock(g_running_mutex);
        auto it = g_running.find(fill_id);
        if (it == g_running.end()) return;
        st = it->second;
    }
    std::unique_lock lock(st->m);
    if (!st->abandoned && !st->done)
        log::info("cache fill of '", fill_id, "' abandoned: the key is being written through this instance");
    st->abandoned = true;   // a fill still reading its body aborts, storing nothing
    st->cv.notify_all();
    // A fill past its last byte may be committing: let it finish first, so the write overwrites it.
    st->cv.wait(lock, [&] { return st->done; });
}

std::unique_ptr<CacheFill> CacheFill::start(ObjectStore& local, const std::string& fill_id, const std::string& key,
                                            WriteOptions opts, std::uint64_t length, bool only_if_absent) {
    auto st = std::make_shared<State>();
    st->expected = length;
    st->id = fill_id;
    {
        std::lock_guard lock(g_running_mutex);
        if (!g_running.emplace(fill_id, st).second) return nullptr;   // someone else is filling it
    }
    std::unique_ptr<CacheFill> fill(new CacheFill());
    fill->state_ = st;
    st->worker = std::thread([st, &local, key, opts = std::move(opts), only_if_absent, rid = current_request_id()] {
        RequestIdScope scope(rid);
        struct Done {
            State& st;
            ~Done() {
                std::lock_guard lock(st.m);
                st.done = true;
                st.cv.notify_all();
            }
        } done{*st};
        try {
            if (only_if_absent && local.head(key, ReadOptions{}).found()) {
                log::info("cache fill of '", key, "' skipped: a local copy exists (written since the index looked)");
                std::lock_guard lock(st->m);
                st->abandoned = st->skipped = true;
                return;
            }
            local.put(key, opts, *st);
            std::lock_guard lock(st->m);
            st->stored = true;
        } catch (const std::exception& e) {
            std::lock_guard lock(st->m);
            if (!st->abandoned) log::warning("cache fill of '", key, "' failed, nothing stored: ", for_log(e));
            st->abandoned = true;
        }
    });
    return fill;
}

void CacheFill::offer(const char* data, std::size_t len) {
    std::lock_guard lock(state_->m);
    if (state_->abandoned || state_->closed) return;
    if (state_->buffered + len > kPipeCapacity) {
        // The local store is slower than the client: give up rather than slow the client.
        state_->abandoned = true;
        state_->cv.notify_all();
        return;
    }
    state_->chunks.emplace_back(data, len);
    state_->buffered += len;
    state_->cv.notify_all();
}

bool CacheFill::finish(bool all_bytes_offered) {
    if (!state_) return false;
    {
        std::lock_guard lock(state_->m);
        if (all_bytes_offered) state_->closed = true;
        else state_->abandoned = true;
        state_->cv.notify_all();
    }
    if (state_->worker.joinable()) state_->worker.join();
    bool stored, skipped;
    {
        std::lock_guard lock(state_->m);
        stored = state_->stored;
        skipped = state_->skipped;
    }
    {
        std::lock_guard lock(g_running_mutex);
        g_running.erase(state_->id);
    }
    metrics::add("cc_cache_fills_total", {{"result", stored ? "stored" : skipped ? "skipped" : "abandoned"}});
    state_.reset();
    return stored;
}

CacheFill::~CacheFill() { finish(false); }

}  // namespace cc
