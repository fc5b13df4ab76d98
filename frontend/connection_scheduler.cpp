#include "frontend/connection_scheduler.h"

#include <Poco/Exception.h>

#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <vector>

#include "common/log.h"
#include "common/metrics.h"

namespace cc {
namespace {
// A worker with nothing to do for this long gives its thread back to the pool.
constexpr auto kWorkerIdle = std::chrono::seconds(10);
// How long a lingering close takes in what the client still sends.
constexpr auto kLingeringClose = std::chrono::seconds(5);
}  // namespace

ConnectionScheduler::ConnectionScheduler(Poco::Net::ServerSocket listener, Accept accept, SchedulerLimits limits)
    : listener_(std::move(listener)), accept_(std::move(accept)), limits_(limits),
      // A little over max_threads: a worker that just finished is counted out
      // before its pooled thread is free again.
      pool_(2, limits.max_threads + 8, 60) {
    port_ = listener_.address().port();
}

ConnectionScheduler::~ConnectionScheduler() {
    stop_accepting();
    {
        std::lock_guard lock(m_);
        quit_ = true;
    }
    work_cv_.notify_all();
    wake_parker();
    if (park_thread_.joinable()) park_thread_.join();
    pool_.joinAll();
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    if (saturated_fd_ >= 0) ::close(saturated_fd_);
}

void ConnectionScheduler::start() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    saturated_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epoll_fd_ < 0 || wake_fd_ < 0 || saturated_fd_ < 0) throw std::runtime_error("cannot create the connection scheduler's epoll set");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    park_thread_ = std::thread([this] { park_loop(); });
    accept_thread_ = std::thread([this] { accept_loop(); });
}

void ConnectionScheduler::stop_accepting() {
    stopping_ = true;
    if (accept_thread_.joinable()) accept_thread_.join();
    try {
        listener_.close();
    } catch (const Poco::Exception&) {
    }
    wake_parker();   // it closes every parked connection
}

std::size_t ConnectionScheduler::busy() const {
    std::lock_guard lock(m_);
    return serving_ + ready_.size();
}

void ConnectionScheduler::accept_loop() {
    auto last_warning = std::chrono::steady_clock::time_point{};
    std::size_t failures = 0;
    auto warn = [&](const std::string& what) {   // at most every 10 s: a storm of them helps nobody
        ++failures;
        const auto now = std::chrono::steady_clock::now();
        if (now - last_warning < std::chrono::seconds(10)) return;
        log::warning("accepting connections failed ", failures, " times: ", what);
        last_warning = now;
        failures = 0;
    };
    while (!stopping_) {
        try {
            // poll(2) itself: Poco's poll opens an epoll descriptor per call, which fails
            // exactly when descriptors run out.
            pollfd p{listener_.impl()->sockfd(), POLLIN, 0};
            if (::poll(&p, 1, 250) <= 0) continue;
            if (auto conn = accept_(listener_)) {
                keep_descriptors_in_reserve(conn->fd());
                park(std::move(conn));   // a thread once its first head is here
            }
        } catch (const OutOfDescriptors& e) {
            // Idle keep-alive connections give way to the new client.
            close_oldest_idle(16);
            warn(std::string(e.what()) + " (closing the oldest idle connections; raise the nofile limit)");
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        } catch (const Poco::Exception& e) {
            warn(e.displayText());   // e.g. a TLS client that reset before accept
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        } catch (const std::exception& e) {
            warn(e.what());
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
}

// Descriptors are shared with the stores (backend connections, RocksDB, the
// file store's files): clients must not take the last of them. The kernel hands
// out the lowest free descriptor, so a new connection's number is a lower bound
// of how many are open; once it comes near the limit, idle connections close.
void ConnectionScheduler::keep_descriptors_in_reserve(int newest_fd) {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return;
    const auto limit = static_cast<std::uint64_t>(lim.rlim_cur);
    const std::uint64_t reserve = std::max<std::uint64_t>(32, limit / 16);
    if (static_cast<std::uint64_t>(newest_fd) + reserve >= limit) close_oldest_idle(16);
}

void ConnectionScheduler::close_oldest_idle(std::size_t n) {
    evict_ = n;
    wake_parker();
}

void ConnectionScheduler::make_ready(std::unique_ptr<ClientConnection> conn) {
    bool spawn = false;
    {
        std::lock_guard lock(m_);
        ready_.push_back(std::move(conn));
        ready_size_ = ready_.size();
        // Each waiting worker takes one connection; start another for the rest.
        if (ready_.size() > static_cast<std::size_t>(idle_workers_)) {
            if (workers_ < limits_.max_threads) {
                ++workers_;
                spawn = true;
            } else {
                const std::uint64_t one = 1;
                [[maybe_unused]] const auto n = ::write(saturated_fd_, &one, sizeof one);
            }
        }
    }
    work_cv_.notify_one();
    if (!spawn) return;
    try {
        pool_.start(worker_);
    } catch (const Poco::Exception& e) {   // NoThreadAvailableException: the running workers will get to it
        std::lock_guard lock(m_);
        --workers_;
        log::warning("no request thread could be started: ", e.displayText());
    }
}

void ConnectionScheduler::work() {
    for (;;) {
        std::unique_ptr<ClientConnection> conn;
        {
            std::unique_lock lock(m_);
            ++idle_workers_;
            work_cv_.wait_for(lock, kWorkerIdle, [this] { return !ready_.empty() || quit_; });
            --idle_workers_;
            if (ready_.empty()) {
                --workers_;
                return;
            }
            conn = std::move(ready_.front());
            ready_.pop_front();
            ready_size_ = ready_.size();
            if (ready_.empty()) {   // nobody waits any more: lingering is allowed again
                std::uint64_t count;
                [[maybe_unused]] const auto n = ::read(saturated_fd_, &count, sizeof count);
            }
            ++serving_;
        }
        serve(std::move(conn));
        std::lock_guard lock(m_);
        --serving_;
    }
}

bool ConnectionScheduler::others_waiting() { return ready_size_.load(std::memory_order_relaxed) > 0; }

// One connection on this thread: its requests one after another while they keep
// coming and nobody else waits, then back to the queue or to parking.
void ConnectionScheduler::serve(std::unique_ptr<ClientConnection> conn) {
    for (;;) {
        const auto linger = others_waiting() || stopping_ ? std::chrono::milliseconds(0) : limits_.linger;
        if (!conn->request_arrives(linger, saturated_fd_)) {
            park(std::move(conn));
            return;
        }
        if (const auto a = conn->arrival(); a != ClientConnection::Arrival::Ready) {
            if (a == ClientConnection::Arrival::TooLarge) conn->refuse_large_head();   // and closed here
            else park(std::move(conn));   // nothing, or a head still coming in: no thread waits for it
            return;
        }
        if (!conn->serve_one()) {         // done
            if (conn->wants_lingering_close() && !stopping_) {
                conn->start_lingering_close();
                park(std::move(conn));    // takes in what the client still sends, without a thread
            }
            return;                       // else closed here
        }
        if (stopping_) return;            // answered with "Connection: close"
        if (others_waiting()) {           // take turns
            const auto a = conn->arrival();
            if (a == ClientConnection::Arrival::Ready) make_ready(std::move(conn));
            else if (a == ClientConnection::Arrival::TooLarge) conn->refuse_large_head();
            else park(std::move(conn));
            return;
        }
    }
}

void ConnectionScheduler::park(std::unique_ptr<ClientConnection> conn) {
    if (stopping_) return;   // no idle connections are kept while stopping: closed here
    {
        std::lock_guard lock(park_m_);
        to_park_.push_back(std::move(conn));
    }
    wake_parker();
}

void ConnectionScheduler::wake_parker() {
    if (wake_fd_ < 0) return;
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
}

bool ConnectionScheduler::look_at(Parked& p, std::chrono::steady_clock::time_point now) {
    switch (p.conn->arrival()) {
    case ClientConnection::Arrival::Ready:
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, p.conn->fd(), nullptr);
        make_ready(std::move(p.conn));
        return false;
    case ClientConnection::Arrival::PartialHead:
        if (!p.partial_head) {   // the head's clock starts with its first bytes
            p.partial_head = true;
            p.deadline = now + limits_.request_header_timeout;
        }
        return true;
    case ClientConnection::Arrival::TooLarge:
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, p.conn->fd(), nullptr);
        p.conn->refuse_large_head();
        p.conn.reset();   // closed
        return false;
    case ClientConnection::Arrival::Nothing:
        return true;
    }
    return true;
}

void ConnectionScheduler::park_loop() {
    std::vector<epoll_event> events(256);
    auto next_expiry = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    for (;;) {
        std::deque<std::unique_ptr<ClientConnection>> adopt;
        {
            std::lock_guard lock(park_m_);
            adopt.swap(to_park_);
        }
        const auto now = std::chrono::steady_clock::now();
        for (auto& conn : adopt) {
            const int fd = conn->fd();
            // Edge-triggered: what has arrived is read ahead (a lingering close drops
            // it), so only new bytes (or the client's close) are news.
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
            ev.data.fd = fd;
            if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
                log::warning("cannot wait for the next request of a connection: ", std::strerror(errno));
                continue;   // closed
            }
            if (conn->lingering()) {
                Parked p{std::move(conn), now + kLingeringClose, now};
                p.closing = true;
                if (p.conn->swallow_input()) parked_.emplace(fd, std::move(p));
                continue;
            }
            const auto wait = conn->served_any() ? limits_.keep_alive_timeout : limits_.first_request_timeout;
            Parked p{std::move(conn), now + wait, now};
            // Bytes already here (part of a pipelined head in the session, a head that
            // came in while the connection was handed over) may not make an edge.
            if (look_at(p, now)) parked_.emplace(fd, std::move(p));
        }
        adopt.clear();

        bool quit;
        {
            std::lock_guard lock(m_);
            quit = quit_;
        }
        if (stopping_ || quit) {
            for (auto& [fd, p] : parked_) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
            parked_.clear();   // idle connections close at once
            if (quit) return;
        }

        const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 1000);
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == wake_fd_) {
                std::uint64_t count;
                [[maybe_unused]] const auto r = ::read(wake_fd_, &count, sizeof count);
                continue;
            }
            auto it = parked_.find(fd);
            if (it == parked_.end()) continue;
            if (it->second.closing) {
                if (!it->second.conn->swallow_input()) {   // the client closed too: done
                    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
                    parked_.erase(it);
                }
                continue;
            }
            if (events[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
                // Closed or failed (perhaps halfway through a head): a thread answers or closes.
                ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
                make_ready(std::move(it->second.conn));
                parked_.erase(it);
                continue;
            }
            if (!look_at(it->second, std::chrono::steady_clock::now())) parked_.erase(it);
        }

        if (std::size_t n = evict_.exchange(0); n > 0 && !parked_.empty()) {
            // Out of descriptors: the connections idle the longest close first.
            std::vector<std::pair<std::chrono::steady_clock::time_point, int>> by_age;
            by_age.reserve(parked_.size());
            for (const auto& [fd, p] : parked_) by_age.emplace_back(p.since, fd);
            n = std::min(n, by_age.size());
            std::partial_sort(by_age.begin(), by_age.begin() + static_cast<std::ptrdiff_t>(n), by_age.end());
            for (std::size_t i = 0; i < n; ++i) {
                ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, by_age[i].second, nullptr);
                parked_.erase(by_age[i].second);
            }
            metrics::add("cc_idle_connections_evicted_total", {}, static_cast<double>(n));
        }

        const auto after = std::chrono::steady_clock::now();
        if (after >= next_expiry) {
            next_expiry = after + std::chrono::seconds(1);
            for (auto it = parked_.begin(); it != parked_.end();) {
                if (it->second.deadline > after) {
                    ++it;
                    continue;
                }
                ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->first, nullptr);
                if (it->second.partial_head) it->second.conn->time_out_head();   // a slowloris head: 408
                it = parked_.erase(it);   // idle too long: closed
            }
            publish_gauges();
        }
    }
}

void ConnectionScheduler::publish_gauges() {
    std::size_t ready, threads;
    {
        std::lock_guard lock(m_);
        ready = ready_.size();
        threads = static_cast<std::size_t>(workers_);
    }
    metrics::set("cc_idle_connections", {}, static_cast<double>(parked_.size()));
    metrics::set("cc_queued_connections", {}, static_cast<double>(ready));
    metrics::set("cc_request_threads", {}, static_cast<double>(threads));
}

}  // namespace cc
