#include "frontend/body_stream.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerSession.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <streambuf>
#include <vector>

#include "common/s3error.h"

namespace cc {
namespace {

class SessionBodyBuf : public std::streambuf {
public:
    SessionBodyBuf(SessionReader& session, std::uint64_t length)
        : session_(session), left_(length), pace_(session.body_pace()), started_(std::chrono::steady_clock::now()) {}

protected:
    // Small reads (the aws-chunked decoder's chunk headers) go through a buffer.
    int_type underflow() override {
        if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
        if (buffer_.empty()) buffer_.resize(kBuffer);
        const std::streamsize n = receive(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
        if (n <= 0) return traits_type::eof();
        setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
        return traits_type::to_int_type(*gptr());
    }

    // Large reads go straight from the socket into the caller's memory.
    std::streamsize xsgetn(char* s, std::streamsize n) override {
        std::streamsize done = std::min<std::streamsize>(n, egptr() - gptr());
        if (done > 0) {
            std::memcpy(s, gptr(), static_cast<std::size_t>(done));
            gbump(static_cast<int>(done));
        }
        while (done < n) {
            const std::streamsize got = receive(s + done, n - done);
            if (got <= 0) break;
            done += got;
        }
        return done;
    }

    std::streamsize showmanyc() override { return left_ == 0 ? -1 : 0; }

private:
    static constexpr std::size_t kBuffer = 64 * 1024;

    // One read of the session: its buffered bytes, else one receive. 0 at the body's end,
    // and where the connection failed or timed out (the reader sees a body cut short).
    std::streamsize receive(char* s, std::streamsize n) {
        if (left_ == 0) return 0;
        keep_pace();
        const auto want = static_cast<std::streamsize>(
            std::min<std::uint64_t>({static_cast<std::uint64_t>(n), left_,
                                     static_cast<std::uint64_t>(std::numeric_limits<int>::max())}));
        int got = 0;
        try {
            got = session_.read_session(s, want);
        } catch (const Poco::Exception&) {
            return 0;
        }
        if (got > 0) {
            left_ -= static_cast<std::uint64_t>(got);
            received_ += static_cast<std::uint64_t>(got);
        }
        return got;
    }

    // Waits for the next bytes only as long as the pace allows (BodyPace).
    void keep_pace() {
        if (pace_.min_rate == 0 || session_.arrived() > 0) return;
        const auto allowed = std::min(started_ + pace_.first_bytes +
                                          std::chrono::milliseconds(received_ * 1000 / pace_.min_rate),
                                      std::chrono::steady_clock::now() + pace_.idle);
        if (!session_.wait_for_input(allowed))
            throw S3Error(400, "RequestTimeout",
                          "Your socket connection to the server was not read from or written to within the timeout "
                          "period: the request body arrived more slowly than " + std::to_string(pace_.min_rate) +
                              " bytes per second (request_body_min_rate)");
    }

    SessionReader& session_;
    std::uint64_t left_;
    BodyPace pace_;
    std::chrono::steady_clock::time_point started_;
    std::uint64_t received_ = 0;
    std::vector<char> buffer_;
};

class SessionBodyStream : public std::istream {
public:
    SessionBodyStream(SessionReader& session, std::uint64_t length)
        : std::istream(nullptr), buf_(session, length) {
        rdbuf(&buf_);
        // The buffer throws only RequestTimeout (connection errors are a short
        // body); without this, the stream would swallow it into its badbit.
        exceptions(std::ios::badbit);
    }

private:
    SessionBodyBuf buf_;
};

// Poco's stream, not owned: the request keeps it.
class BorrowedStream : public std::istream {
public:
    explicit BorrowedStream(std::istream& in) : std::istream(in.rdbuf()) {}
};

}  // namespace

std::unique_ptr<std::istream> session_body_stream(SessionReader& session, std::uint64_t length) {
    return std::make_unique<SessionBodyStream>(session, length);
}

SessionReader* session_of(Poco::Net::HTTPServerRequest& http) {
    auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&http);
    return impl ? dynamic_cast<SessionReader*>(&impl->session()) : nullptr;
}

std::unique_ptr<std::istream> open_body_stream(Poco::Net::HTTPServerRequest& http) {
    SessionReader* reader = session_of(http);
    if (reader && http.hasContentLength() && !http.getChunkedTransferEncoding() && http.getContentLength64() > 0)
        return session_body_stream(*reader, static_cast<std::uint64_t>(http.getContentLength64()));
    return std::make_unique<BorrowedStream>(http.stream());
}

}  // namespace cc
