#include "engine/periodic_task.h"

#include "common/log.h"
#include "common/s3error.h"

namespace cc {

PeriodicTask::PeriodicTask(std::string name, std::function<void()> round, std::chrono::seconds interval, bool run_first)
    : name_(std::move(name)), round_(std::move(round)), interval_(interval), run_first_(run_first) {}

PeriodicTask::~PeriodicTask() { stop(); }

void PeriodicTask::start() {
    thread_ = std::thread([this] {
        std::unique_lock lock(m_);
        bool run = run_first_;
        while (!stopping_) {
            if (run) {
                lock.unlock();
                try {
                    round_();
                } catch (const std::exception& e) {
                    log::error(name_, " round failed: ", for_log(e));
                }
                lock.lock();
            }
            cv_.wait_for(lock, interval_, [this] { return stopping_ || woken_; });
            woken_ = false;
            run = true;
        }
    });
}

void PeriodicTask::stop() {
    {
        std::lock_guard lock(m_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void PeriodicTask::wake() {
    {
        std::lock_guard lock(m_);
        woken_ = true;
    }
    cv_.notify_all();
}

bool PeriodicTask::stopping() const {
    std::lock_guard lock(m_);
    return stopping_;
}

}  // namespace cc
