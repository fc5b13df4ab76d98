#include "engine/presence_index.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <cstring>
#include <stdexcept>

namespace cc {
namespace {

// --- encoding -------------------------------------------------------------

void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out += static_cast<char>((v & 0x7F) | 0x80);
        v >>= 7;
    }
    out += static_cast<char>(v);
}

bool get_varint(std::string_view& in, std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
        auto b = static_cast<unsigned char>(in.front());
        in.remove_prefix(1);
        v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
        if (!(b & 0x80)) return true;
    }
    return false;
}

void put_string(std::string& out, std::string_view s) {
    put_varint(out, s.size());
    out.append(s);
}

bool get_string(std::string_view& in, std::string& s) {
    std::uint64_t n;
    if (!get_varint(in, n) || n > in.size()) return false;
    s.assign(in.substr(0, n));
    in.remove_prefix(n);
    return true;
}

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

// Smallest key greater than every key starting with `prefix`.
std::string after_prefix(std::string prefix) {
    while (!prefix.empty()) {
        auto& c = reinterpret_cast<unsigned char&>(prefix.back());
        if (c < 0xFF) {
            ++c;
            return prefix;
        }
        prefix.pop_back();
    }
    return prefix;
}

}  // namespace

const char* side_name(Side side) { return side == Side::Local ? "local" : "remote"; }

PresenceIndex::PresenceIndex(rocksdb::DB& db) : db_(db) {}

void PresenceIndex::put(Side side, const std::string& account, const std::string& container, const ObjectInfo& info,
                        std::uint64_t pass) {
    if (pass == 0) pass = state(account, container).of(side).pass;   // an own write counts as seen by the current pass
    check(db_.Put(rocksdb::WriteOptions(), object_prefix(side, account, container) + info.key, encode_object(info, pass)),
          "write");
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
    const std::string base = object_prefix(side, account, container);
    const std::string start = base + req.prefix;
    const std::string end = after_prefix(start);
    ListPage page;
    if (req.max_keys <= 0) return page;
    std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator(rocksdb::ReadOptions()));
    // Start after the marker (and after everything under it when it names a common prefix).
    std::string seek = start;
    if (!req.marker.empty() && base + req.marker >= seek) seek = base + req.marker + '\0';
    for (it->Seek(seek); it->Valid(); ) {
        rocksdb::Slice k = it->key();
        if (k.compare(rocksdb::Slice(end)) >= 0 && !end.empty()) break;
        if (!k.starts_with(rocksdb::Slice(start))) break;
        std::string key(k.data() + base.size(), k.size() - base.size());
        ListEntry e;
        std::size_t d = req.delimiter.empty() ? std::string::npos : key.find(req.delimiter, req.prefix.size());
        if (d != std::string::npos) {
            e.is_prefix = true;
            e.info.key = key.substr(0, d + req.delimiter.size());
        } else {
            e.info.key = key;
            if (!decode_object(it->value().ToStringView(), e.info))
                throw std::runtime_error("presence index: corrupt record for '" + key + "'");
            e.info.key = key;
        }
        if (!req.marker.empty() && e.info.key <= req.marker) {
            // Only a common prefix can sort at or before the marker here: skip its subtree.
            it->Seek(after_prefix(base + e.info.key));
            continue;
        }
        if (static_cast<int>(page.entries.size()) == req.max_keys) {
            page.truncated = true;
            page.next_marker = page.entries.back().info.key;
            break;
        }
        page.entries.push_back(e);
        if (e.is_prefix) it->Seek(after_prefix(base + e.info.key));
        else it->Next();
    }
    check(it->status(), "scan");
    return page;
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
