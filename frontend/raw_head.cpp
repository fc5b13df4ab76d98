#include "frontend/raw_head.h"

#include <Poco/Net/HTTPBufferAllocator.h>
#include <Poco/String.h>

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <utility>
#include <vector>

namespace cc {

int HeadCapture::receiveBytes(void* buffer, int length, int flags) {
    int n;
    if (!ahead_.empty() && length > 0 && !(flags & MSG_PEEK)) {
        n = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(length), ahead_.size()));
        std::memcpy(buffer, ahead_.data(), static_cast<std::size_t>(n));
        ahead_.erase(0, static_cast<std::size_t>(n));
    } else {
        n = StreamSocketImpl::receiveBytes(buffer, length, flags);
    }
    if (n > 0 && !(flags & MSG_PEEK)) {
        if (length == Poco::Net::HTTPBufferAllocator::BUFFER_SIZE)   // the session filling its buffer
            last_fill_.assign(static_cast<const char*>(buffer), static_cast<std::size_t>(n));
        if (capturing_) {
            if (captured_.size() + static_cast<std::size_t>(n) > kLimit) overflow_ = true;
            else captured_.append(static_cast<const char*>(buffer), static_cast<std::size_t>(n));
        }
    }
    return n;
}

int HeadCapture::available() { return static_cast<int>(ahead_.size()) + StreamSocketImpl::available(); }

long HeadCapture::read_ahead() {
    char buf[4096];   // a head is a few hundred bytes; more comes on the next call
    const ssize_t n = ::recv(sockfd(), buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) ahead_.append(buf, static_cast<std::size_t>(n));
    return static_cast<long>(n);
}

bool HeadCapture::start(std::size_t held) {
    captured_.clear();
    overflow_ = false;
    if (held > last_fill_.size()) {
        capturing_ = false;
        return false;
    }
    captured_.assign(last_fill_, last_fill_.size() - held, held);
    capturing_ = true;
    return true;
}

std::string HeadCapture::stop() {
    capturing_ = false;
    if (overflow_) captured_.clear();
    return std::exchange(captured_, {});
}

std::optional<std::string_view> HeadCapture::held(std::size_t held) const {
    if (held > last_fill_.size()) return std::nullopt;
    return std::string_view(last_fill_).substr(last_fill_.size() - held);
}

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

}  // namespace

void restore_raw_header_values(Poco::Net::MessageHeader& headers, std::string_view head) {
    if (head.find("=?") == std::string_view::npos) return;   // nothing Poco could have changed
    std::vector<std::pair<std::string, std::string>> raw;
    std::size_t pos = head.find('\n');                        // skip the request line
    while (pos != std::string_view::npos && pos + 1 < head.size()) {
        const std::size_t start = pos + 1;
        const std::size_t end = head.find('\n', start);
        std::string_view line = head.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        pos = end;
        if (trim(line).empty()) break;                        // end of the head
        if (line.front() == ' ' || line.front() == '\t') return;   // folded lines: leave Poco's reading
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) return;
        raw.emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
    }
    // Only names that occur in both readings the same number of times are touched.
    for (const auto& [name, value] : raw) {
        if (value.find("=?") == std::string::npos) continue;
        std::vector<std::string> sent;
        for (const auto& [n, v] : raw)
            if (Poco::icompare(n, name) == 0) sent.push_back(v);
        std::size_t parsed = 0;
        for (const auto& [n, v] : headers)
            if (Poco::icompare(n, name) == 0) ++parsed;
        if (parsed != sent.size()) continue;
        headers.erase(name);
        for (const auto& v : sent) headers.add(name, v);
    }
}

bool holds_whole_head(std::string_view received) {
    // The request line as Poco reads it (HTTPRequest::read): blanks of any kind
    // (newlines too) before and between method, URI and version, then the rest of
    // the line; so "GET\n\n/ HTTP/1.1" is one request line, not a head's end.
    std::size_t i = 0;
    const std::size_t n = received.size();
    auto blank = [&](std::size_t k) { return std::isspace(static_cast<unsigned char>(received[k])) != 0; };
    for (int token = 0; token < 3; ++token) {
        while (i < n && blank(i)) ++i;
        if (i == n) return false;
        while (i < n && !blank(i)) ++i;
        if (i == n) return false;
    }
    const std::size_t line_end = received.find('\n', i);
    if (line_end == std::string_view::npos) return false;
    // The headers end with the first empty line after it.
    return received.find("\n\n", line_end) != std::string_view::npos ||
           received.find("\n\r\n", line_end) != std::string_view::npos;
}

bool head_complete(std::string_view head) {
    return head.size() >= 2 && head.back() == '\n' &&
           (head[head.size() - 2] == '\n' || (head.size() >= 4 && head.compare(head.size() - 4, 4, "\r\n\r\n") == 0) ||
            (head.size() >= 3 && head.compare(head.size() - 3, 3, "\n\r\n") == 0));
}

}  // namespace cc
