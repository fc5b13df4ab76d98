#include "storage/rocks_keyspace.h"

#include <stdexcept>

namespace cc::keyspace {

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

void rollup_scan(rocksdb::Iterator& it, const std::string& base, const std::string& prefix,
                 const std::string& delimiter, const std::string& marker, std::size_t suffix_len,
                 const std::function<bool(const RollupItem&)>& visit) {
    const std::string start = base + prefix;
    const rocksdb::Slice start_slice(start);
    // Start at the marker when it is inside (or after) the prefix's range; what is
    // at or before it is skipped below.
    const std::string seek = !marker.empty() && marker > prefix ? base + marker : start;
    // Where to go next: past a common prefix's subtree, or to the next key.
    // (The seek target outlives the iterator's use of it.)
    std::string target;
    for (it.Seek(seek); it.Valid();) {
        const rocksdb::Slice k = it.key();
        if (!k.starts_with(start_slice)) break;
        RollupItem item;
        item.name.assign(k.data() + base.size(), k.size() - base.size());
        const std::size_t searchable = item.name.size() > suffix_len ? item.name.size() - suffix_len : 0;
        std::size_t d = std::string::npos;
        if (!delimiter.empty() && searchable > prefix.size()) {
            d = std::string_view(item.name).substr(0, searchable).find(delimiter, prefix.size());
        }
        if (d != std::string::npos) {
            item.is_prefix = true;
            item.name.resize(d + delimiter.size());
        } else {
            item.value = it.value();
        }
        const bool skipped = !marker.empty() && item.name <= marker;
        if (!skipped && !visit(item)) return;
        if (item.is_prefix) {
            target = after_prefix(base + item.name);
            if (target.empty()) break;
            it.Seek(target);
        } else {
            it.Next();
        }
    }
}

ListPage list_page(rocksdb::Iterator& it, const std::string& base, const ListRequest& req,
                   const std::function<bool(std::string_view value, ObjectInfo& info)>& decode,
                   const std::string& what) {
    ListPage page;
    if (req.max_keys <= 0) return page;
    rollup_scan(it, base, req.prefix, req.delimiter, req.marker, 0, [&](const RollupItem& item) {
        if (static_cast<int>(page.entries.size()) == req.max_keys) {
            page.truncated = true;
            page.next_marker = page.entries.back().info.key;
            return false;
        }
        ListEntry e;
        e.is_prefix = item.is_prefix;
        e.info.key = item.name;
        if (!item.is_prefix) {
            if (!decode(item.value.ToStringView(), e.info))
                throw std::runtime_error(what + ": corrupt record for '" + item.name + "'");
            e.info.key = item.name;
        }
        page.entries.push_back(std::move(e));
        return true;
    });
    if (!it.status().ok()) throw std::runtime_error(what + ": scan: " + it.status().ToString());
    return page;
}

}  // namespace cc::keyspace
