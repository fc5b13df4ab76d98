// An ObjectStore over one bucket of an S3 endpoint: path-style addressing,
// SigV4-signed (UNSIGNED-PAYLOAD, so uploads stream without hashing first).
// Used for the cloud ("local") store, for the on-prem cluster's S3 API
// ("remote", signed with the client's own credentials), and for the config bucket.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "storage/http_client.h"
#include "storage/object_store.h"

namespace cc {

struct Credentials {
    std::string access_key, secret_key, session_token;
};
// Called for every request, so rotating credentials (ECS task roles) work.
using CredentialSource = std::function<Credentials()>;

struct S3Location {
    std::string endpoint;             // "http://host:port", no trailing '/'
    std::string bucket;
    std::string region = "us-east-1";
    std::string side;                 // "local", "remote" or "config", for messages
    HttpTimeouts timeouts;
};

class S3Store : public ObjectStore {
public:
    S3Store(S3Location where, CredentialSource creds);

    ReadResult head(const std::string& key, const ReadOptions& opts) override;
    ReadResult get(const std::string& key, const ReadOptions& opts, BodySink& sink) override;
    Stored put(const std::string& key, const WriteOptions& opts, BodySource& body) override;
    void remove(const std::string& key) override;
    std::optional<std::string> replace_metadata(const std::string& key, const WriteOptions& opts) override;
    ListPage list(const ListRequest& req) override;
    std::string side() const override { return where_.side; }

    std::string create_upload(const std::string& key, const WriteOptions& opts) override;
    std::string upload_part(const std::string& key, const std::string& upload_id, int part_number,
                            BodySource& body, const std::string& content_md5) override;
    std::string complete_upload(const std::string& key, const std::string& upload_id,
                                const std::vector<PartInfo>& parts) override;
    void abort_upload(const std::string& key, const std::string& upload_id) override;
    PartsPage list_parts(const std::string& key, const std::string& upload_id, int part_marker, int max_parts) override;
    UploadsPage list_uploads(const UploadsRequest& req) override;

    // Account-level GET: the buckets these credentials own (the location's bucket is unused).
    struct Bucket {
        std::string name;
        std::time_t created = 0;
    };
    std::vector<Bucket> list_buckets();

    // Bucket-level HEAD: true if the bucket exists and we may use it.
    bool bucket_exists();

private:
    HttpResponse send(const std::string& method, const std::string& key,
                      const std::vector<std::pair<std::string, std::string>>& query,
                      HeaderList headers, BodySource* body,
                      const std::function<BodySink*(const HttpResponse&)>& stream_to = {});
    HttpResponse perform(const std::string& method, const std::string& path,
                         const std::vector<std::pair<std::string, std::string>>& query,
                         HeaderList headers, BodySource* body,
                         const std::function<BodySink*(const HttpResponse&)>& stream_to = {});
    // `verb` names the operation ("read", "store part 3 of"), `object` the store's name
    // for the object it was about, if any.
    [[noreturn]] void fail(const HttpResponse& resp, const std::string& verb, const std::string& object = {}) const;

    S3Location where_;
    CredentialSource creds_;
    std::string host_;                // Host header value derived from the endpoint
};

// HTTP read conditions -> request headers, and response status -> ReadResult status,
// shared by the stores that speak HTTP (S3, Swift).
void add_read_headers(const ReadOptions& opts, HeaderList& headers);
ReadResult::Status status_of(int http_status);

// Response headers <-> ObjectInfo, shared with stores that speak the same headers.
// meta_prefix: lower-case header prefix of user metadata ("x-object-meta-" for Swift).
ObjectInfo object_info_from_headers(const std::string& key, const HttpResponse& resp,
                                    std::string_view meta_prefix = "x-amz-meta-");
void add_write_headers(const WriteOptions& opts, HeaderList& headers, std::string_view meta_prefix);
// The ETag and Last-Modified of a write's answer.
Stored stored_from_headers(const HttpResponse& resp);

}  // namespace cc
