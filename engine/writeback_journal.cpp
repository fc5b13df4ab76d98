#include "engine/writeback_journal.h"

#include <rocksdb/db.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace cc {
namespace {

std::string record_key(const PendingUpload& u) {
    std::string k = "w" + u.account;
    k += '\0';
    k += u.container;
    k += '\0';
    k += u.key;
    return k;
}

void put_field(std::string& out, const std::string& s) {
    const auto n = static_cast<std::uint32_t>(s.size());
    out.append(reinterpret_cast<const char*>(&n), sizeof n);
    out += s;
}

bool get_field(std::string_view& in, std::string& s) {
    std::uint32_t n;
    if (in.size() < sizeof n) return false;
    std::copy_n(in.data(), sizeof n, reinterpret_cast<char*>(&n));
    in.remove_prefix(sizeof n);
    if (in.size() < n) return false;
    s.assign(in.substr(0, n));
    in.remove_prefix(n);
    return true;
}

std::string encode(const PendingUpload& u) {
    std::string v;
    put_field(v, u.etag);
    put_field(v, u.access_key);
    put_field(v, std::to_string(u.enqueued));
    put_field(v, std::to_string(u.next_attempt));
    put_field(v, std::to_string(u.attempts));
    put_field(v, u.last_error);
    return v;
}

bool decode(std::string_view key, std::string_view value, PendingUpload& u) {
    key.remove_prefix(1);
    auto a = key.find('\0');
    if (a == std::string_view::npos) return false;
    auto b = key.find('\0', a + 1);
    if (b == std::string_view::npos) return false;
    u.account = key.substr(0, a);
    u.container = key.substr(a + 1, b - a - 1);
    u.key = key.substr(b + 1);
    std::string enq, next, attempts;
    if (!get_field(value, u.etag) || !get_field(value, u.access_key) || !get_field(value, enq) ||
        !get_field(value, next) || !get_field(value, attempts) || !get_field(value, u.last_error))
        return false;
    u.enqueued = std::stoll(enq);
    u.next_attempt = std::stoll(next);
    u.attempts = static_cast<std::uint32_t>(std::stoul(attempts));
    return true;
}

void check(const rocksdb::Status& s, const char* what) {
    if (!s.ok()) throw std::runtime_error(std::string("write-back journal: ") + what + ": " + s.ToString());
}

rocksdb::WriteOptions durable() {
    rocksdb::WriteOptions w;
    w.sync = true;   // acknowledged to the client: must survive a power cut
    return w;
}

}  // namespace

WritebackJournal::WritebackJournal(rocksdb::DB& db) : db_(db) {}

void WritebackJournal::enqueue(const PendingUpload& upload) {
    std::lock_guard lock(mutex_);
    check(db_.Put(durable(), record_key(upload), encode(upload)), "enqueue");
}

std::vector<PendingUpload> WritebackJournal::all() const { return due(0, static_cast<std::size_t>(-1)); }

std::vector<PendingUpload> WritebackJournal::due(std::time_t now, std::size_t limit) const {
    std::vector<PendingUpload> out;
    std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator(rocksdb::ReadOptions()));
    for (it->Seek("w"); it->Valid() && it->key().starts_with("w") && out.size() < limit; it->Next()) {
        PendingUpload u;
        if (!decode(it->key().ToStringView(), it->value().ToStringView(), u)) continue;
        if (now == 0 || u.next_attempt <= now) out.push_back(std::move(u));
    }
    check(it->status(), "scan");
    return out;
}

void WritebackJournal::done(const PendingUpload& upload) {
    std::lock_guard lock(mutex_);
    std::string value;
    auto s = db_.Get(rocksdb::ReadOptions(), record_key(upload), &value);
    if (s.IsNotFound()) return;
    check(s, "read");
    PendingUpload current;
    if (decode(record_key(upload), value, current) && current.etag != upload.etag) return;   // superseded
    check(db_.Delete(durable(), record_key(upload)), "done");
}

void WritebackJournal::failed(const PendingUpload& upload, const std::string& error) {
    std::lock_guard lock(mutex_);
    std::string value;
    auto s = db_.Get(rocksdb::ReadOptions(), record_key(upload), &value);
    if (s.IsNotFound()) return;
    check(s, "read");
    PendingUpload current;
    if (!decode(record_key(upload), value, current) || current.etag != upload.etag) return;
    current.attempts += 1;
    const std::time_t backoff = std::min<std::time_t>(300, std::time_t{1} << std::min<std::uint32_t>(current.attempts, 9));
    current.next_attempt = std::time(nullptr) + backoff;
    current.last_error = error;
    check(db_.Put(durable(), record_key(current), encode(current)), "record failure");
}

}  // namespace cc
