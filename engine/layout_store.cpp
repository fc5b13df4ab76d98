#include "engine/layout_store.h"

#include "common/rfc2047.h"

namespace cc {

WriteOptions encode_metadata(const WriteOptions& opts) {
    WriteOptions out = opts;
    for (auto& [k, v] : out.user_meta) v = rfc2047::encode(v);
    return out;
}

void decode_metadata(ObjectInfo& info) {
    for (auto& [k, v] : info.user_meta) v = rfc2047::decode(v);
}

LayoutStore::LayoutStore(StorePtr inner, std::string prefix, bool hide_manifests)
    : inner_(std::move(inner)), prefix_(std::move(prefix)), hide_manifests_(hide_manifests) {}

ReadResult LayoutStore::decoded(ReadResult r, const std::string& key) const {
    r.info.key = key;
    decode_metadata(r.info);
    return r;
}

ReadResult LayoutStore::head(const std::string& key, const ReadOptions& opts) {
    return decoded(inner_->head(prefix_ + key, opts), key);
}

ReadResult LayoutStore::get(const std::string& key, const ReadOptions& opts, BodySink& sink) {
    // The sink sees the head before any bytes: decode it on the way through.
    struct DecodingSink : BodySink {
        BodySink& next;
        const std::string& key;
        DecodingSink(BodySink& n, const std::string& k) : next(n), key(k) {}
        void begin(const ReadResult& head) override {
            ReadResult r = head;
            r.info.key = key;
            decode_metadata(r.info);
            next.begin(r);
        }
        void write(const char* d, std::size_t n) override { next.write(d, n); }
    } decoding(sink, key);
    return decoded(inner_->get(prefix_ + key, opts, decoding), key);
}

Stored LayoutStore::put(const std::string& key, const WriteOptions& opts, BodySource& body) {
    return inner_->put(prefix_ + key, encode_metadata(opts), body);
}

void LayoutStore::remove(const std::string& key) { inner_->remove(prefix_ + key); }

std::optional<std::string> LayoutStore::replace_metadata(const std::string& key, const WriteOptions& opts) {
    return inner_->replace_metadata(prefix_ + key, encode_metadata(opts));
}

ListPage LayoutStore::list(const ListRequest& req) {
    ListRequest inner_req = req;
    inner_req.prefix = prefix_ + req.prefix;
    if (!req.marker.empty()) inner_req.marker = prefix_ + req.marker;
    ListPage page = inner_->list(inner_req);
    ListPage out;
    out.truncated = page.truncated;
    for (auto& e : page.entries) {
        if (e.info.key.compare(0, prefix_.size(), prefix_) != 0) continue;   // not ours (defensive)
        e.info.key.erase(0, prefix_.size());
        // SLO manifests sit beside the objects when a custom prefix is used.
        if (hide_manifests_ && e.info.key.rfind(".manifests/", 0) == 0) continue;
        out.entries.push_back(std::move(e));
    }
    if (page.next_marker.compare(0, prefix_.size(), prefix_) == 0) out.next_marker = page.next_marker.substr(prefix_.size());
    return out;
}

std::string LayoutStore::create_upload(const std::string& key, const WriteOptions& opts) {
    return inner_->create_upload(prefix_ + key, encode_metadata(opts));
}

std::string LayoutStore::upload_part(const std::string& key, const std::string& upload_id, int part_number,
                                     BodySource& body, const std::string& content_md5) {
    return inner_->upload_part(prefix_ + key, upload_id, part_number, body, content_md5);
}

std::string LayoutStore::complete_upload(const std::string& key, const std::string& upload_id,
                                         const std::vector<PartInfo>& parts) {
    return inner_->complete_upload(prefix_ + key, upload_id, parts);
}

void LayoutStore::abort_upload(const std::string& key, const std::string& upload_id) {
    inner_->abort_upload(prefix_ + key, upload_id);
}

PartsPage LayoutStore::list_parts(const std::string& key, const std::string& upload_id, int part_marker,
                                  int max_parts) {
    return inner_->list_parts(prefix_ + key, upload_id, part_marker, max_parts);
}

UploadsPage LayoutStore::list_uploads(const UploadsRequest& req) {
    UploadsRequest r = req;
    r.prefix = prefix_ + req.prefix;
    if (!req.key_marker.empty()) r.key_marker = prefix_ + req.key_marker;
    UploadsPage page = inner_->list_uploads(r);
    auto strip = [&](std::string& name) {
        if (name.compare(0, prefix_.size(), prefix_) != 0) return false;
        name.erase(0, prefix_.size());
        return true;
    };
    UploadsPage out;
    out.truncated = page.truncated;
    out.next_upload_id_marker = page.next_upload_id_marker;
    out.next_key_marker = page.next_key_marker;
    strip(out.next_key_marker);
    for (auto& u : page.uploads)
        if (strip(u.key)) out.uploads.push_back(std::move(u));
    for (auto& p : page.common_prefixes)
        if (strip(p)) out.common_prefixes.push_back(std::move(p));
    return out;
}

}  // namespace cc
