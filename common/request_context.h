// The id of the client request a thread is working on, so that every
// backend request made on its behalf carries it (Swift appends
// X-Trans-Id-Extra to its transaction ids: one id greps through all logs).
#pragma once
#include <string>

namespace cc {

inline std::string& current_request_id() {
    thread_local std::string id;
    return id;
}

// Sets the id for the lifetime of a scope (a request, a copy's reader thread).
class RequestIdScope {
public:
    explicit RequestIdScope(std::string id) : saved_(current_request_id()) { current_request_id() = std::move(id); }
    ~RequestIdScope() { current_request_id() = saved_; }
    RequestIdScope(const RequestIdScope&) = delete;
    RequestIdScope& operator=(const RequestIdScope&) = delete;
private:
    std::string saved_;
};

}  // namespace cc
