// Building blocks shared by the RocksDB keyspaces that hold object listings
// (engine/presence_index, storage/file_store): a compact record encoding, and
// the S3 listing walk (prefix, delimiter roll-up, marker, page size) that
// skips each common prefix's whole subtree with one Seek instead of reading it.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <rocksdb/iterator.h>

#include "storage/object_store.h"

namespace cc::keyspace {

// Little-endian base-128 varints and length-prefixed strings.
void put_varint(std::string& out, std::uint64_t v);
bool get_varint(std::string_view& in, std::uint64_t& v);
void put_string(std::string& out, std::string_view s);
bool get_string(std::string_view& in, std::string& s);

// Smallest key greater than every key that starts with `prefix` ("" if none is).
std::string after_prefix(std::string prefix);

struct RollupItem {
    bool is_prefix = false;
    std::string name;          // the key without `base`; for a common prefix, the prefix itself
    rocksdb::Slice value;      // entries only
};

// Walks the keys that start with base + prefix in order, as an S3 listing
// sees them. A key's name is the key without `base`; the last `suffix_len`
// bytes of a name are not part of what the delimiter is searched in (e.g. an
// upload id after the object name). A name that contains `delimiter` after
// `prefix` is rolled up into its common prefix, reported once; the rest of
// that subtree is skipped with a Seek. Items whose name sorts at or before
// `marker` are skipped the same way. visit() returns false to stop the walk.
// Check it.status() afterwards.
void rollup_scan(rocksdb::Iterator& it, const std::string& base, const std::string& prefix,
                 const std::string& delimiter, const std::string& marker, std::size_t suffix_len,
                 const std::function<bool(const RollupItem&)>& visit);

// One S3 listing page of such a keyspace (next_marker = the last name shown
// when truncated). decode(value, info) fills an entry (info.key is already
// set) and returns false for a record it cannot read; the page then throws
// std::runtime_error naming the key. Checks it.status() (throws on error).
ListPage list_page(rocksdb::Iterator& it, const std::string& base, const ListRequest& req,
                   const std::function<bool(std::string_view value, ObjectInfo& info)>& decode,
                   const std::string& what);

}  // namespace cc::keyspace
