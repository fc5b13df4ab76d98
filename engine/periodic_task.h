// A background round on its own thread: run every `interval` (and at once when
// woken), until stopped. The refresher, the write-back worker and the config
// reloader are each one of these; a round never runs in a request's path.
#pragma once
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace cc {

class PeriodicTask {
public:
    // run_first: a round at start, before the first wait (else the first round comes after one interval).
    PeriodicTask(std::string name, std::function<void()> round, std::chrono::seconds interval, bool run_first);
    ~PeriodicTask();
    PeriodicTask(const PeriodicTask&) = delete;
    PeriodicTask& operator=(const PeriodicTask&) = delete;

    void start();
    void stop();             // waits for a round in progress to finish
    void wake();             // the next round now
    bool stopping() const;   // rounds check it between units of work

private:
    std::string name_;
    std::function<void()> round_;
    std::chrono::seconds interval_;
    bool run_first_;
    mutable std::mutex m_;
    std::condition_variable cv_;
    bool stopping_ = false, woken_ = false;
    std::thread thread_;
};

}  // namespace cc
