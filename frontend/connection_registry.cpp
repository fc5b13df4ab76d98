#include "frontend/connection_registry.h"

#include "common/metrics.h"

#include <sys/socket.h>

namespace cc {

void ConnectionRegistry::reading_head(Poco::Net::StreamSocket* s) {
    std::lock_guard lock(m_);
    reading_head_[s] = std::chrono::steady_clock::now();
}

bool ConnectionRegistry::head_read(Poco::Net::StreamSocket* s) {
    std::lock_guard lock(m_);
    return reading_head_.erase(s) == 1;
}

void ConnectionRegistry::expire_slow_heads(std::chrono::seconds limit) {
    std::lock_guard lock(m_);
    const auto now = std::chrono::steady_clock::now();
    for (auto it = reading_head_.begin(); it != reading_head_.end();) {
        if (now - it->second <= limit) {
            ++it;
            continue;
        }
        // On the descriptor itself: Poco's TLS socket ignores shutdownReceive() (no half
        // shutdown in TLS), but a read of the socket then ends either way, handshake included.
        ::shutdown(it->first->impl()->sockfd(), SHUT_RD);
        metrics::add("cc_slow_request_heads_closed_total", {});
        it = reading_head_.erase(it);
    }
}

void ConnectionRegistry::closed(Poco::Net::StreamSocket* s) {
    std::lock_guard lock(m_);
    reading_head_.erase(s);
}

void ConnectionRegistry::stop() {
    std::lock_guard lock(m_);
    stopping_ = true;
}

bool ConnectionRegistry::stopping() {
    std::lock_guard lock(m_);
    return stopping_;
}

}  // namespace cc
