// The connector's persistent state under state_dir (a container's persistent
// volume):
//   <state_dir>/db/      RocksDB: format marker now; the presence index and
//                        write-back journal live here as column families.
//   <state_dir>/tmp/     scratch space for temporary files.
// RocksDB's LOCK file keeps two processes from sharing one state_dir.
#pragma once
#include <memory>
#include <string>

namespace rocksdb { class DB; }

namespace cc {

class StateDir {
public:
    // Creates the layout if needed and opens the database. Throws
    // std::runtime_error("[cloud-connector] state_dir: ...") on failure.
    explicit StateDir(const std::string& path);
    ~StateDir();
    // Creates the directory if needed and checks it is writable, without
    // opening the database (which a running instance may hold).
    static void check_writable(const std::string& path);
    // For tools (cc-index): opens <path>/db read-only. Takes no lock and
    // writes nothing (not even an info LOG), so a running instance is not
    // disturbed; the view is the state at open time, including writes still
    // in the instance's write-ahead log. Throws std::runtime_error naming the
    // state dir when there is no state database there.
    static std::unique_ptr<rocksdb::DB> open_read_only(const std::string& path);
    // The pid of the process holding <path>/db's lock (-1 if its pid is unknown), 0 if none does.
    static long lock_holder(const std::string& path);
    rocksdb::DB& db() { return *db_; }
    const std::string& path() const { return path_; }
    static constexpr const char* kFormatKey = "meta:format";
    static constexpr const char* kFormatVersion = "1";
private:
    std::string path_;
    std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace cc
