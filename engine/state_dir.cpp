#include "engine/state_dir.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <cstdio>
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

}  // namespace cc
