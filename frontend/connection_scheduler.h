// Which connection a request thread serves next.
//
// A thread per open connection would let idle keep-alive clients hold every
// thread, and once connections outnumber threads, busy ones would keep theirs
// while the rest starve in the accept queue. Instead:
//
//   accept thread ──▶ ready queue ──▶ worker threads (at most max_threads) ──▶ ClientConnection::serve_one
//                        ▲                       │ no next request within a short linger
//                        │                       ▼
//                        └──── readable ──── parked connections (one epoll set, no thread each)
//
// A worker serves one request, then keeps the connection for the next one as
// long as it arrives within `linger` (a busy client's next request comes
// within a round trip) and no other connection waits for a thread; otherwise
// the connection is parked in the epoll set, or, if its next request is
// already there, goes to the back of the ready queue. Connections are served
// in arrival order: more connections than threads only lengthens the queue.
// A connection goes to a thread only once its whole request head has arrived
// (ClientConnection::arrival): new connections, and those whose next head is
// still coming in, wait parked too, so clients that send heads slowly
// (slowloris) hold no thread; a head still incomplete request_header_timeout
// after its first bytes is answered 408 by the parking thread.
// Parked connections close after keep_alive_timeout (before their first
// request: first_request_timeout), and all at once when the server stops;
// when descriptors run short (the stores need some too), the oldest idle ones
// close to make room (their clients reconnect, as after any keep-alive close).
#pragma once
#include <Poco/Net/ServerSocket.h>
#include <Poco/Runnable.h>
#include <Poco/ThreadPool.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "frontend/client_connection.h"

namespace cc {

struct SchedulerLimits {
    int max_threads = 256;
    std::chrono::seconds first_request_timeout{60};
    std::chrono::seconds keep_alive_timeout{30};
    std::chrono::seconds request_header_timeout{20};
    std::chrono::milliseconds linger{50};
};

class ConnectionScheduler {
public:
    // Accepts the connection waiting on the listener (nullptr: it went away; throws
    // OutOfDescriptors when the process has none left).
    using Accept = std::function<std::unique_ptr<ClientConnection>(Poco::Net::ServerSocket&)>;

    ConnectionScheduler(Poco::Net::ServerSocket listener, Accept accept, SchedulerLimits limits);
    ~ConnectionScheduler();

    void start();
    // Stops accepting and closes every parked connection; later requests are not kept waiting.
    void stop_accepting();
    // Connections being served or waiting for a thread (not the parked ones).
    std::size_t busy() const;
    std::uint16_t port() const { return port_; }

private:
    struct Parked {
        std::unique_ptr<ClientConnection> conn;
        std::chrono::steady_clock::time_point deadline;
        std::chrono::steady_clock::time_point since;   // parked since (the oldest make room first)
        bool partial_head = false;   // the deadline is the head's (request_header_timeout)
        bool closing = false;        // a lingering close: input is taken in and dropped until the deadline
    };
    class Worker : public Poco::Runnable {
    public:
        explicit Worker(ConnectionScheduler& s) : s_(s) {}
        void run() override { s_.work(); }
    private:
        ConnectionScheduler& s_;
    };

    void accept_loop();
    void park_loop();
    // A parked connection's bytes changed: to a thread once its head is whole.
    // Returns false when it left the parking (handed to a thread).
    bool look_at(Parked& p, std::chrono::steady_clock::time_point now);
    void work();
    void serve(std::unique_ptr<ClientConnection> conn);
    void make_ready(std::unique_ptr<ClientConnection> conn);
    void park(std::unique_ptr<ClientConnection> conn);
    bool others_waiting();
    void wake_parker();
    void keep_descriptors_in_reserve(int newest_fd);
    void close_oldest_idle(std::size_t n);
    void publish_gauges();

    Poco::Net::ServerSocket listener_;
    std::uint16_t port_ = 0;
    Accept accept_;
    SchedulerLimits limits_;
    std::atomic<bool> stopping_{false};

    // Ready queue and workers.
    mutable std::mutex m_;
    std::condition_variable work_cv_;
    std::deque<std::unique_ptr<ClientConnection>> ready_;
    std::atomic<std::size_t> ready_size_{0};   // ready_.size(), read without the lock
    bool quit_ = false;
    // Readable while connections wait for a thread and none can be started: lingering
    // workers then park their connection at once instead of after the linger.
    int saturated_fd_ = -1;
    int workers_ = 0;        // worker tasks running
    int idle_workers_ = 0;   // of them, waiting for a connection
    std::size_t serving_ = 0;
    Poco::ThreadPool pool_;
    Worker worker_{*this};

    // Parking (owned by the park thread; handed over through to_park_).
    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    std::mutex park_m_;
    std::deque<std::unique_ptr<ClientConnection>> to_park_;
    std::unordered_map<int, Parked> parked_;   // by descriptor
    std::atomic<std::size_t> evict_{0};         // idle connections to close for descriptors

    std::thread accept_thread_, park_thread_;
};

}  // namespace cc
