// The request-body stream over a session (frontend/body_stream.h): whatever
// pieces the session hands out, the stream yields exactly the body's bytes,
// never asks the session for a byte past the body, and says when it is at the end.
#include <doctest/doctest.h>

#include <numeric>
#include <string>
#include <vector>

#include "common/s3error.h"
#include "frontend/body_stream.h"

using namespace cc;

namespace {

// A session holding `wire` (the body followed by the next request), handing out at most
// `piece` bytes per read, like a socket that receives in pieces. With `stall_at`, the client
// sends nothing more after that many bytes and keeps the connection open.
class FakeSession : public SessionReader {
public:
    FakeSession(std::string wire, std::size_t piece, BodyPace pace = {},
                std::size_t stall_at = std::string::npos)
        : wire_(std::move(wire)), piece_(piece), pace_(pace), stall_at_(std::min(stall_at, wire_.size())),
          stalls_(stall_at != std::string::npos) {}
    std::size_t arrived() override { return stall_at_ - pos_; }
    bool wait_for_input(std::chrono::steady_clock::time_point until) override {
        waited_until.push_back(until);
        return !stalls_;   // a stalled client sends nothing: the wait ends at `until`; else it closed
    }
    BodyPace body_pace() const override { return pace_; }
    std::vector<std::chrono::steady_clock::time_point> waited_until;
    int read_session(char* buffer, std::streamsize n) override {
        const std::size_t k = std::min({static_cast<std::size_t>(n), piece_, stall_at_ - pos_});
        wire_.copy(buffer, k, pos_);
        pos_ += k;
        ++reads;
        return static_cast<int>(k);
    }
    std::size_t consumed() const { return pos_; }
    int reads = 0;

private:
    std::string wire_;
    std::size_t piece_;
    BodyPace pace_;
    std::size_t stall_at_;
    bool stalls_;
    std::size_t pos_ = 0;
};

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return s;
}

}  // namespace

TEST_CASE("the body stream yields the body and stops at its end, whatever the pieces") {
    const std::string next = "GET /next HTTP/1.1\r\n\r\n";
    for (std::size_t size : {1u, 100u, 4096u, 70000u, 300001u}) {
        for (std::size_t piece : {1u, 7u, 4096u, 65536u, 1u << 20}) {
            for (std::size_t read_size : {1u, 3u, 16384u, 262144u}) {
                CAPTURE(size);
                CAPTURE(piece);
                CAPTURE(read_size);
                const std::string body = pattern(size);
                FakeSession session(body + next, piece);
                auto in = session_body_stream(session, size);
                std::string got;
                std::vector<char> buf(read_size);
                while (in->read(buf.data(), static_cast<std::streamsize>(buf.size())) || in->gcount() > 0)
                    got.append(buf.data(), static_cast<std::size_t>(in->gcount()));
                CHECK(got == body);
                CHECK(session.consumed() == size);   // the next request stays in the session
                CHECK(in->rdbuf()->in_avail() == -1);
            }
        }
    }
}

TEST_CASE("small reads (the aws-chunked decoder's lines) and large ones mix") {
    const std::string body = "5;chunk-signature=x\r\nhello\r\n0\r\n\r\n" + pattern(100000);
    FakeSession session(body + "NEXT", 1000);
    auto in = session_body_stream(session, body.size());
    std::string line;
    std::getline(*in, line);
    CHECK(line == "5;chunk-signature=x\r");
    char five[5];
    in->read(five, 5);
    CHECK(std::string(five, 5) == "hello");
    std::string rest((std::istreambuf_iterator<char>(*in)), std::istreambuf_iterator<char>());
    CHECK(rest == body.substr(line.size() + 1 + 5));
    CHECK(session.consumed() == body.size());
}

TEST_CASE("a body cut short ends the stream where the bytes end") {
    const std::string sent = pattern(5000);
    FakeSession session(sent, 4096);   // the client promised 10000 bytes, then closed
    auto in = session_body_stream(session, 10000);
    std::vector<char> buf(262144);
    in->read(buf.data(), static_cast<std::streamsize>(buf.size()));
    CHECK(in->gcount() == 5000);
    CHECK(std::string(buf.data(), 5000) == sent);
    CHECK(in->rdbuf()->in_avail() != -1);   // not at the body's end: the connection is not in step
}

TEST_CASE("a body that stops arriving ends the request with RequestTimeout once it falls behind the pace") {
    const std::string body = pattern(10000);
    const auto before = std::chrono::steady_clock::now();
    FakeSession session(body, 1000, BodyPace{std::chrono::seconds(20), 500}, /*stall_at=*/4000);
    auto in = session_body_stream(session, body.size());
    std::vector<char> buf(10000);
    try {
        in->read(buf.data(), static_cast<std::streamsize>(buf.size()));
        FAIL("the stalled body was not cut off");
    } catch (const S3Error& e) {
        CHECK(e.status() == 400);
        CHECK(e.code() == "RequestTimeout");
    }
    // It waited only once nothing had arrived, and then no longer than the pace allows:
    // 20 s for the first bytes and one more second per 500 bytes received (4000: 8 s).
    REQUIRE(session.waited_until.size() == 1);
    const auto allowed = session.waited_until.front() - before;
    CHECK(allowed >= std::chrono::seconds(28));
    CHECK(allowed < std::chrono::seconds(29));
}

TEST_CASE("however much arrived before, a body that stops arriving is cut after the idle limit") {
    const std::string body = pattern(2'000'000);
    const auto before = std::chrono::steady_clock::now();
    // 1 MB received: the rate allowance alone would be 20 s + 2000 s.
    FakeSession session(body, 65536, BodyPace{std::chrono::seconds(20), 500, std::chrono::seconds(60)},
                        /*stall_at=*/1'000'000);
    auto in = session_body_stream(session, body.size());
    std::vector<char> buf(body.size());
    CHECK_THROWS_AS(in->read(buf.data(), static_cast<std::streamsize>(buf.size())), S3Error);
    REQUIRE(session.waited_until.size() == 1);
    CHECK(session.waited_until.front() - before < std::chrono::seconds(61));
}

TEST_CASE("without a minimum rate a stalled body is only cut by the session's own timeout") {
    const std::string body = pattern(3000);
    FakeSession session(body, 1000, BodyPace{std::chrono::seconds(20), 0}, /*stall_at=*/2000);
    auto in = session_body_stream(session, body.size());
    std::vector<char> buf(3000);
    in->read(buf.data(), static_cast<std::streamsize>(buf.size()));
    CHECK(in->gcount() == 2000);   // the session's read gave nothing more (here: as at a timeout)
    CHECK(session.waited_until.empty());
}

TEST_CASE("large reads go to the session in few calls") {
    const std::string body = pattern(1 << 20);
    FakeSession session(body, 1 << 20);
    auto in = session_body_stream(session, body.size());
    std::vector<char> buf(256 * 1024);
    std::size_t total = 0;
    while (in->read(buf.data(), static_cast<std::streamsize>(buf.size())) || in->gcount() > 0)
        total += static_cast<std::size_t>(in->gcount());
    CHECK(total == body.size());
    CHECK(session.reads <= 5);   // straight into the caller's buffer: one call per 256 KiB
}
