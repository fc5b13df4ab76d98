#include "engine/presence_index.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <cstring>
#include <stdexcept>

#include "storage/rocks_keyspace.h"

namespace cc {
namespace {

using keyspace::after_prefix;
using keyspace::get_string;
using keyspace::get_varint;
using keyspace::put_string;
using keyspace::put_varint;

constexpr char kRecordVersion = 1;

std::string encode_object(const ObjectInfo& info, std::uint64_t pass) {
    std::string v(1, kRecordVersion);
    put_varint(v, info.size);
    put_string(v, info.etag);
    put_varint(v, static_cast<std::uint64_t>(info.last_modified));
    put_string(v, info.content_type);
    put_varint(v, pass);
    return v;
}

bool decode_object(std::string_view v, ObjectInfo& info, std::uint64_t* pass = nullptr) {
    if (v.empty() || v.front() != kRecordVersion) return false;
    v.remove_prefix(1);
    std::uint64_t mtime, p;
    if (!get_varint(v, info.size) || !get_string(v, info.etag) || !get_varint(v, mtime) ||
        !get_string(v, info.content_type) || !get_varint(v, p))
        return false;
    info.last_modified = static_cast<std::time_t>(mtime);
    if (pass) *pass = p;
    return true;
}

std::string encode_state(const ContainerState& st) {
    std::string v(1, kRecordVersion);
    for (const SideState& s : st.side) {
        put_varint(v, static_cast<std::uint64_t>(s.last_complete));
        put_varint(v, s.pass);
        put_varint(v, s.in_progress ? 1 : 0);
        put_string(v, s.cursor);
        put_string(v, s.last_error);
    }
    return v;
}

ContainerState decode_state(std::string_view v) {
    ContainerState st;
    if (v.empty() || v.front() != kRecordVersion) return st;
    v.remove_prefix(1);
    for (SideState& s : st.side) {
        std::uint64_t complete = 0, busy = 0;
        if (!get_varint(v, complete) || !get_varint(v, s.pass) || !get_varint(v, busy) || !get_string(v, s.cursor) ||
            !get_string(v, s.last_error))
            return ContainerState{};
        s.last_complete = static_cast<std::time_t>(complete);
        s.in_progress = busy != 0;
    }
    return st;
}

std::string container_id(const std::string& account, const std::string& container) {
    std::string id = account;
    id += '\0';
    id += container;
    id += '\0';
    return id;
}

std::string object_prefix(Side side, const std::string& account, const std::string& container) {
    return std::string("o") + (side == Side::Local ? 'L' : 'R') + container_id(account, container);
}

std::string state_key(const std::string& account, const std::string& container) {
    return "c" + container_id(account, container);
}

void check(const rocksdb::Status& s, const char* what) {
    if (!s.ok()) throw std::runtime_error(std::string("presence index: ") + what + ": " + s.ToString());
}

}  // namespace

const char* side_name(Side side) { return side == Side::Local ? "local" : "remote"; }

PresenceIndex::PresenceIndex(rocksdb::DB& db) : db_(db) {}

void PresenceIndex::put(Side side, const std::string& account, const std::string& container, const ObjectInfo& info,
                        std::uint64_t pass) {
    std::string state_value;
    const auto found = db_.Get(rocksdb::ReadOptions(), state_key(account, container), &state_value);
    if (pass == 0 && found.ok()) pass = decode_state(state_value).of(side).pass;   // seen by the current pass
    rocksdb::WriteBatch batch;
    batch.Put(object_prefix(side, account, container) + info.key, encode_object(info, pass));
    // The first object of a container (an own write before any refresh, or a "/*"
    // container the on-prem cluster does not list yet) makes it known to stats and refreshes.
    if (found.IsNotFound()) batch.Put(state_key(account, container), encode_state(ContainerState{}));
    check(db_.Write(rocksdb::WriteOptions(), &batch), "write");
}

void PresenceIndex::remove(Side side, const std::string& account, const std::string& container, const std::string& key) {
    check(db_.Delete(rocksdb::WriteOptions(), object_prefix(side, account, container) + key), "delete");
}

std::optional<ObjectInfo> PresenceIndex::get(Side side, const std::string& account, const std::string& container,
                                             const std::string& key) const {
    std::string value;
    auto s = db_.Get(rocksdb::ReadOptions(), object_prefix(side, account, container) + key, &value);
    if (s.IsNotFound()) return std::nullopt;
    check(s, "read");
    ObjectInfo info;
    if (!decode_object(value, info)) throw std::runtime_error("presence index: corrupt record for '" + key + "'");
    info.key = key;
    return info;
}

ListPage PresenceIndex::list(Side side, const std::string& account, const std::string& container,
                             const ListRequest& req) const {
    std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator(rocksdb::ReadOptions()));
    return keyspace::list_page(*it, object_prefix(side, account, container), req,
                               [](std::string_view value, ObjectInfo& info) { return decode_object(value, info); },
                               "presence index");
}

ContainerState PresenceIndex::state(const std::string& account, const std::string& container) const {
    std::string value;
    auto s = db_.Get(rocksdb::ReadOptions(), state_key(account, container), &value);
    if (s.IsNotFound()) return {};
    check(s, "read state");
    return decode_state(value);
}

void PresenceIndex::save_state(const std::string& account, const std::string& container, const ContainerState& st) {
    check(db_.Put(rocksdb::WriteOptions(), state_key(account, container), encode_state(st)), "write state");
}

void PresenceIndex::record_page(Side side, const std::string& account, const std::string& container,
                                const std::vector<ListEntry>& entries, std::uint64_t pass) {
    rocksdb::WriteBatch batch;
    const std::string base = object_prefix(side, account, container);
    ContainerState st = state(account, container);
    for (const auto& e : entries) {
        if (e.is_prefix) continue;
        batch.Put(base + e.info.key, encode_object(e.info, pass));
        st.of(side).cursor = e.info.key;
    }
    batch.Put(state_key(account, container), encode_state(st));
    check(db_.Write(rocksdb::WriteOptions(), &batch), "record page");
}

std::uint64_t PresenceIndex::drop_unseen(Side side, const std::string& account, const std::string& container,
                                         std::uint64_t pass) {
    const std::string base = object_prefix(side, account, container);
    std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator(rocksdb::ReadOptions()));
    rocksdb::WriteBatch batch;
    std::uint64_t dropped = 0;
    for (it->Seek(base); it->Valid() && it->key().starts_with(base); it->Next()) {
        ObjectInfo info;
        std::uint64_t seen = 0;
        if (!decode_object(it->value().ToStringView(), info, &seen) || seen < pass) {
            batch.Delete(it->key());
            ++dropped;
        }
        if (batch.Count() >= 1000) {
            check(db_.Write(rocksdb::WriteOptions(), &batch), "drop unseen");
            batch.Clear();
        }
    }
    check(it->status(), "scan");
    check(db_.Write(rocksdb::WriteOptions(), &batch), "drop unseen");
    return dropped;
}

std::vector<std::pair<std::string, std::string>> PresenceIndex::containers() const {
    std::vector<std::pair<std::string, std::string>> out;
    std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator(rocksdb::ReadOptions()));
    for (it->Seek("c"); it->Valid() && it->key().starts_with("c"); it->Next()) {
        std::string id = it->key().ToString().substr(1);
        auto zero = id.find('\0');
        if (zero == std::string::npos) continue;
        out.emplace_back(id.substr(0, zero), id.substr(zero + 1, id.size() - zero - 2));
    }
    return out;
}

ContainerStats PresenceIndex::stats(const std::string& account, const std::string& container) const {
    ContainerStats st;
    st.account = account;
    st.container = container;
    st.state = state(account, container);
    std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator(rocksdb::ReadOptions()));
    for (Side side : {Side::Local, Side::Remote}) {
        const std::string base = object_prefix(side, account, container);
        for (it->Seek(base); it->Valid() && it->key().starts_with(base); it->Next()) {
            ObjectInfo info;
            if (!decode_object(it->value().ToStringView(), info)) continue;
            ++st.objects[static_cast<int>(side)];
            st.bytes[static_cast<int>(side)] += info.size;
        }
    }
    return st;
}

void PresenceIndex::clear(const std::string& account, const std::string& container) {
    for (Side side : {Side::Local, Side::Remote}) {
        const std::string base = object_prefix(side, account, container);
        check(db_.DeleteRange(rocksdb::WriteOptions(), db_.DefaultColumnFamily(), base, after_prefix(base)), "clear");
    }
    check(db_.Delete(rocksdb::WriteOptions(), state_key(account, container)), "clear state");
}

}  // namespace cc
