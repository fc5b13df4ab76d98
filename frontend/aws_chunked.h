// Decodes an aws-chunked request body (Content-Encoding: aws-chunked), the
// framing SDKs use for STREAMING-AWS4-HMAC-SHA256-PAYLOAD (every chunk signed,
// each signature chained to the previous one, starting from the request's
// own signature) and STREAMING-UNSIGNED-PAYLOAD-TRAILER (plain chunks, then
// trailing headers such as x-amz-checksum-crc32):
//
//   <hex size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n
//   [<trailer>:<value>\r\n ...]\r\n
//
// Backends only ever see the decoded bytes.
#pragma once
#include <istream>
#include <map>
#include <string>

#include "common/crypto.h"

namespace cc {

struct ChunkSigner {
    std::string signing_key, amz_date, scope, seed_signature;
};

class AwsChunkDecoder {
public:
    // signer == nullptr: unsigned chunks.
    AwsChunkDecoder(std::istream& in, const ChunkSigner* signer);
    // Decoded data bytes; 0 once the final (empty) chunk has been read.
    // Throws S3Error: SignatureDoesNotMatch for a broken chain, IncompleteBody
    // for a body cut short, InvalidRequest for broken framing.
    std::size_t read(char* buf, std::size_t len);
    // Consumes the final chunk (if read() has not yet) and the trailers.
    void finish();
    const std::map<std::string, std::string>& trailers() const { return trailers_; }

private:
    std::string read_line();
    void next_chunk();                 // reads a chunk header
    void verify_chunk();               // checks the finished chunk's signature
    std::istream& in_;
    const ChunkSigner* signer_;
    std::string previous_signature_, chunk_signature_;
    std::uint64_t remaining_ = 0;      // data bytes left in the current chunk
    bool in_chunk_ = false, final_seen_ = false, finished_ = false;
    std::unique_ptr<Digest> chunk_hash_;
    std::map<std::string, std::string> trailers_;
};

}  // namespace cc
