#include "frontend/aws_chunked.h"

#include <Poco/Exception.h>
#include <Poco/String.h>

#include <cstdlib>
#include <string_view>

#include "common/s3error.h"
#include "common/sigv4.h"

namespace cc {
namespace {

constexpr std::size_t kMaxLine = 4096;
constexpr std::uint64_t kMaxChunk = 64ull << 20;

S3Error incomplete() {
    return S3Error(400, "IncompleteBody", "The request body ended before the aws-chunked framing was complete");
}
S3Error bad_framing(const std::string& why) {
    return S3Error(400, "InvalidRequest", "Invalid aws-chunked request body: " + why);
}
S3Error broken_chain() {
    return S3Error(403, "SignatureDoesNotMatch",
                   "The chunk signature we calculated does not match the signature you provided");
}

}  // namespace

AwsChunkDecoder::AwsChunkDecoder(std::istream& in, const ChunkSigner* signer) : in_(in), signer_(signer) {
    if (signer_) previous_signature_ = signer_->seed_signature;
}

std::string AwsChunkDecoder::read_line() {
    std::string line;
    try {
        for (;;) {
            int c = in_.get();
            if (c == std::char_traits<char>::eof()) throw incomplete();
            if (c == '\n') break;
            line += static_cast<char>(c);
            if (line.size() > kMaxLine) throw bad_framing("a header line is longer than 4 KiB");
        }
    } catch (const Poco::Exception&) {
        throw incomplete();
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

void AwsChunkDecoder::next_chunk() {
    const std::string header = read_line();
    const auto semi = header.find(';');
    const std::string size_text = header.substr(0, semi);
    char* end = nullptr;
    const unsigned long long size = std::strtoull(size_text.c_str(), &end, 16);
    if (size_text.empty() || *end) throw bad_framing("bad chunk size '" + size_text + "'");
    if (size > kMaxChunk) throw bad_framing("chunk larger than 64 MiB");
    chunk_signature_.clear();
    if (semi != std::string::npos) {
        const std::string ext = header.substr(semi + 1);
        const std::string key = "chunk-signature=";
        if (ext.rfind(key, 0) != 0) throw bad_framing("unknown chunk extension '" + ext + "'");
        chunk_signature_ = ext.substr(key.size());
    }
    if (signer_ && chunk_signature_.empty()) throw bad_framing("a chunk without chunk-signature");
    remaining_ = size;
    in_chunk_ = true;
    chunk_hash_ = std::make_unique<Digest>("sha256");
    if (size == 0) {
        verify_chunk();   // the final chunk is signed too
        final_seen_ = true;
        in_chunk_ = false;
    }
}

void AwsChunkDecoder::verify_chunk() {
    if (!signer_) return;
    const std::string expected = sigv4::chunk_signature_from_hash(
        signer_->signing_key, signer_->amz_date, signer_->scope, previous_signature_, to_hex(chunk_hash_->finish()));
    if (!constant_time_equal(expected, chunk_signature_)) throw broken_chain();
    previous_signature_ = chunk_signature_;
}

std::size_t AwsChunkDecoder::read(char* buf, std::size_t len) {
    if (final_seen_) return 0;
    if (!in_chunk_) {
        next_chunk();
        if (final_seen_) return 0;
    }
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(len, remaining_));
    std::size_t got = 0;
    try {
        in_.read(buf, static_cast<std::streamsize>(want));
        got = static_cast<std::size_t>(in_.gcount());
    } catch (const Poco::Exception&) {
        got = 0;
    }
    if (got == 0) throw incomplete();
    chunk_hash_->update(buf, got);
    remaining_ -= got;
    if (remaining_ == 0) {
        if (!read_line().empty()) throw bad_framing("chunk data longer than its declared size");
        verify_chunk();
        in_chunk_ = false;
    }
    return got;
}

void AwsChunkDecoder::finish() {
    if (finished_) return;
    if (!final_seen_) {
        if (in_chunk_) throw bad_framing("more data than x-amz-decoded-content-length declares");
        next_chunk();
        if (!final_seen_) throw bad_framing("more data than x-amz-decoded-content-length declares");
    }
    // Trailing headers, then an empty line (some clients end the body without it).
    for (;;) {
        std::string line;
        try {
            line = read_line();
        } catch (const S3Error&) {
            break;   // end of body right after the trailers
        }
        if (line.empty()) break;
        auto colon = line.find(':');
        if (colon == std::string::npos) throw bad_framing("bad trailer line");
        trailers_[Poco::toLower(Poco::trim(line.substr(0, colon)))] = Poco::trim(line.substr(colon + 1));
    }
    // The transport's own end: with Transfer-Encoding: chunked (SDKs streaming a
    // body, e.g. the JS SDK v3) HTTP's last chunk is still unread here and would
    // be parsed as the next request on a kept-alive connection.
    try {
        char rest[256];
        while (in_.read(rest, sizeof rest) || in_.gcount() > 0)
            if (std::string_view(rest, static_cast<std::size_t>(in_.gcount())).find_first_not_of("\r\n") != std::string_view::npos)
                throw bad_framing("data after the final chunk's trailers");
    } catch (const Poco::Exception&) {
    }
    finished_ = true;
}

}  // namespace cc
