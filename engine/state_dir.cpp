#include "engine/state_dir.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>

#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <filesystem>
#include <ctime>
#include <stdexcept>

#include "common/log.h"

namespace cc {

StateDir::StateDir(const std::string& path) : path_(path) {
    namespace fs = std::filesystem;
    const std::string where = "[cloud-connector] state_dir: " + path + ": ";
    std::error_code ec;
    fs::create_directories(fs::path(path) / "db", ec);
    if (!ec) fs::create_directories(fs::path(path) / "tmp", ec);
    if (ec) throw std::runtime_error(where + ec.message());

    rocksdb::Options options;
    options.create_if_missing = true;
    options.paranoid_checks = true;
    rocksdb::DB* raw = nullptr;
    const fs::path db_path = fs::path(path) / "db";
    rocksdb::Status s = rocksdb::DB::Open(options, db_path.string(), &raw);
    if (s.IsCorruption()) {
        // Everything in the database can be rebuilt from the stores: keep the
        // damaged copy for inspection and start from an empty one.
        const fs::path aside = fs::path(path) / ("db.corrupt-" + std::to_string(std::time(nullptr)));
        log::error("state database is corrupt (", s.ToString(), "): moved aside to ", aside.string(),
                   "; the presence index is rebuilt, listings are live meanwhile");
        fs::rename(db_path, aside, ec);
        if (ec) throw std::runtime_error(where + "corrupt database cannot be moved aside: " + ec.message());
        fs::create_directories(db_path, ec);
        s = rocksdb::DB::Open(options, db_path.string(), &raw);
    }
    if (!s.ok()) throw std::runtime_error(where + s.ToString());
    db_.reset(raw);

    std::string format;
    s = db_->Get(rocksdb::ReadOptions(), kFormatKey, &format);
    if (s.IsNotFound()) {
        rocksdb::WriteOptions wo;
        wo.sync = true;
        s = db_->Put(wo, kFormatKey, kFormatVersion);
        if (!s.ok()) throw std::runtime_error(where + s.ToString());
    } else if (!s.ok()) {
        throw std::runtime_error(where + s.ToString());
    } else if (format != kFormatVersion) {
        throw std::runtime_error(where + "state format " + format + " is not " + kFormatVersion +
                                 " (written by another version?)");
    }
}

StateDir::~StateDir() = default;

void StateDir::check_writable(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(fs::path(path) / "tmp", ec);
    if (ec) throw std::runtime_error("[cloud-connector] state_dir: " + path + ": " + ec.message());
    const fs::path probe = fs::path(path) / "tmp" / ".write-probe";
    std::FILE* f = std::fopen(probe.c_str(), "w");
    if (!f) throw std::runtime_error("[cloud-connector] state_dir: " + path + ": not writable");
    std::fclose(f);
    fs::remove(probe, ec);
}

namespace {
// Keeps a read-only open from creating its own LOG (which would rotate the
// running instance's LOG file away).
class NullLogger : public rocksdb::Logger {
public:
    using rocksdb::Logger::Logv;
    void Logv(const char*, va_list) override {}
};
}  // namespace

std::unique_ptr<rocksdb::DB> StateDir::open_read_only(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(path, ec)) throw std::runtime_error("state dir " + path + ": no such directory");
    const fs::path db_path = fs::path(path) / "db";
    if (!fs::exists(db_path / "CURRENT", ec))
        throw std::runtime_error("state dir " + path + ": no state database in it (" + db_path.string() +
                                 "/CURRENT is missing)");
    rocksdb::Options options;
    options.create_if_missing = false;
    options.info_log = std::make_shared<NullLogger>();
    rocksdb::Status s;
    // A running instance may flush or compact while we open, removing a file
    // the manifest we read still named: that is worth a few retries.
    for (int attempt = 0; attempt < 5; ++attempt) {
        rocksdb::DB* raw = nullptr;
        s = rocksdb::DB::OpenForReadOnly(options, db_path.string(), &raw);
        if (s.ok()) return std::unique_ptr<rocksdb::DB>(raw);
        if (!s.IsIOError() && !s.IsPathNotFound()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100 * (attempt + 1)));
    }
    throw std::runtime_error("state dir " + path + ": cannot open the state database read-only: " + s.ToString());
}

long StateDir::lock_holder(const std::string& path) {
    const std::string lock = path + "/db/LOCK";
    const int fd = ::open(lock.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 0;
    long holder = 0;
    if (::fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) holder = fl.l_pid > 0 ? fl.l_pid : -1;
    ::close(fd);
    return holder;
}

}  // namespace cc
