#include "engine/copy_through.h"

#include "common/request_context.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

namespace cc {
namespace {

// A bounded byte pipe: the source's BodySink on one side, the destination's
// BodySource on the other.
class Pipe : public BodySink, public BodySource {
public:
    explicit Pipe(std::size_t capacity) : capacity_(capacity) {}

    // --- producer (reader thread) ---
    void begin(const ReadResult& head) override {
        std::lock_guard lock(m_);
        head_ = head;
        has_head_ = true;
        cv_.notify_all();
    }
    void write(const char* data, std::size_t len) override {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return buffered_ < capacity_ || reader_gone_; });
        if (reader_gone_) throw std::runtime_error("copy destination gave up");
        chunks_.emplace_back(data, len);
        buffered_ += len;
        cv_.notify_all();
    }
    void finish(ReadResult result, std::exception_ptr error) {
        std::lock_guard lock(m_);
        if (!has_head_) head_ = std::move(result);
        error_ = error;
        finished_ = true;
        cv_.notify_all();
    }

    // --- consumer (calling thread) ---
    // Waits until the source has answered: true if bytes will follow.
    bool wait_head() {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return has_head_ || finished_; });
        if (!has_head_ && error_) std::rethrow_exception(error_);
        return has_head_;
    }
    const ReadResult& head() const { return head_; }
    std::size_t read(char* buf, std::size_t len) override {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return !chunks_.empty() || finished_; });
        if (chunks_.empty()) {
            if (error_) std::rethrow_exception(error_);
            if (delivered_ < head_.content_length)
                throw unavailable("the copy source ended after " + std::to_string(delivered_) + " of " +
                                  std::to_string(head_.content_length) + " bytes");
            return 0;
        }
        std::string& front = chunks_.front();
        std::size_t n = std::min(len, front.size() - offset_);
        std::copy_n(front.data() + offset_, n, buf);
        offset_ += n;
        if (offset_ == front.size()) {
            buffered_ -= front.size();
            chunks_.pop_front();
            offset_ = 0;
            cv_.notify_all();
        }
        delivered_ += n;
        return n;
    }
    std::uint64_t length() const override { return head_.content_length; }
    void reader_gone() {
        std::lock_guard lock(m_);
        reader_gone_ = true;
        cv_.notify_all();
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    const std::size_t capacity_;
    std::deque<std::string> chunks_;
    std::size_t buffered_ = 0, offset_ = 0;
    std::uint64_t delivered_ = 0;
    ReadResult head_;
    bool has_head_ = false, finished_ = false, reader_gone_ = false;
    std::exception_ptr error_;
};

}  // namespace

CopyOutcome copy_through(ObjectStore& source, const std::string& key, const ReadOptions& opts,
                         const std::function<std::string(BodySource&, const ReadResult&)>& write,
                         std::size_t pipe_bytes) {
    Pipe pipe(pipe_bytes);
    std::thread reader([&, id = current_request_id()] {
        RequestIdScope scope(id);
        try {
            ReadResult r = source.get(key, opts, pipe);
            pipe.finish(std::move(r), nullptr);
        } catch (...) {
            pipe.finish({}, std::current_exception());
        }
    });
    CopyOutcome out;
    try {
        if (pipe.wait_head()) out.written = write(pipe, pipe.head());
    } catch (...) {
        pipe.reader_gone();
        reader.join();
        throw;
    }
    pipe.reader_gone();
    reader.join();
    out.source = pipe.head();
    return out;
}

}  // namespace cc
