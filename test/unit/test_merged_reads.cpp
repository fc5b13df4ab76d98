// The merged store's read order: local first by default; with a remote_first
// predicate, the remote first for the keys it names, and the local store still
// consulted whenever the remote one has no answer, so nothing written locally
// is ever hidden by the routing.
#include <doctest/doctest.h>

#include <map>

#include "common/s3error.h"
#include "engine/merged_store.h"

using namespace cc;

namespace {

// One side: a set of keys it holds, or down (every read a 503); records the reads it saw.
class SideStore : public ObjectStore {
public:
    SideStore(std::string name, std::map<std::string, std::string> objects) : name_(std::move(name)), objects_(std::move(objects)) {}
    bool down = false;
    std::vector<std::string> reads;
    ReadResult head(const std::string& key, const ReadOptions&) override { return lookup(key); }
    ReadResult get(const std::string& key, const ReadOptions&, BodySink& sink) override {
        ReadResult r = lookup(key);
        if (r.found()) {
            sink.begin(r);
            const std::string& body = objects_.at(key);
            sink.write(body.data(), body.size());
        }
        return r;
    }
    Stored put(const std::string&, const WriteOptions&, BodySource&) override { return {}; }
    void remove(const std::string&) override {}
    std::optional<std::string> replace_metadata(const std::string&, const WriteOptions&) override { return {}; }
    ListPage list(const ListRequest&) override { return {}; }
    std::string side() const override { return name_; }

private:
    ReadResult lookup(const std::string& key) {
        reads.push_back(key);
        if (down) throw unavailable(name_ + " store down");
        ReadResult r;
        if (!objects_.count(key)) return r;
        r.status = ReadResult::Status::Ok;
        r.info.key = key;
        r.content_length = objects_.at(key).size();
        r.answered_by = name_;
        return r;
    }
    std::string name_;
    std::map<std::string, std::string> objects_;
};

struct Collect : BodySink {
    std::string body;
    void begin(const ReadResult&) override {}
    void write(const char* d, std::size_t n) override { body.append(d, n); }
};

struct Fixture {
    std::shared_ptr<SideStore> local = std::make_shared<SideStore>(
        "local", std::map<std::string, std::string>{{"both", "local copy"}, {"fresh-local", "written since the index looked"}});
    std::shared_ptr<SideStore> remote = std::make_shared<SideStore>(
        "remote", std::map<std::string, std::string>{{"both", "on-prem copy"}, {"onprem", "on-prem only"}});
    std::string get(MergedStore& m, const std::string& key, std::string* answered_by = nullptr) {
        Collect c;
        ReadResult r = m.get(key, ReadOptions{}, c);
        if (answered_by) *answered_by = r.answered_by;
        return r.found() ? c.body : "<404>";
    }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "local first without a predicate: the remote is asked only after a local miss") {
    MergedStore m(local, remote);
    CHECK(get(m, "both") == "local copy");
    CHECK(remote->reads.empty());
    CHECK(get(m, "onprem") == "on-prem only");
    CHECK(local->reads == std::vector<std::string>{"both", "onprem"});
    CHECK(get(m, "nowhere") == "<404>");
}

TEST_CASE_FIXTURE(Fixture, "remote first for the keys the predicate names, local first for the others") {
    MergedStore m(local, remote, [](const std::string& key) { return key != "both"; });
    std::string by;
    CHECK(get(m, "onprem", &by) == "on-prem only");
    CHECK(by == "remote");
    CHECK(local->reads.empty());   // the lookup that would miss is saved
    CHECK(get(m, "both", &by) == "local copy");
    CHECK(by == "local");
    CHECK(m.head("onprem", ReadOptions{}).answered_by == "remote");
    CHECK(local->reads == std::vector<std::string>{"both"});
}

TEST_CASE_FIXTURE(Fixture, "a remote miss still asks the local store: a key written locally since the index looked") {
    MergedStore m(local, remote, [](const std::string&) { return true; });
    std::string by;
    CHECK(get(m, "fresh-local", &by) == "written since the index looked");
    CHECK(by == "local");
    CHECK(m.head("fresh-local", ReadOptions{}).found());
    CHECK(get(m, "nowhere") == "<404>");
}

TEST_CASE_FIXTURE(Fixture, "remote down: a local copy answers, and without one the remote's 503, never a 404") {
    MergedStore m(local, remote, [](const std::string&) { return true; });
    remote->down = true;
    CHECK(get(m, "fresh-local") == "written since the index looked");
    int status = 0;
    try {
        get(m, "onprem");
    } catch (const S3Error& e) {
        status = e.status();
        CHECK(std::string(e.what()).find("remote store down") != std::string::npos);
    }
    CHECK(status == 503);
}

TEST_CASE_FIXTURE(Fixture, "a remote refusal (403) lets a local copy answer, as local-first would have") {
    struct Refusing : SideStore {
        using SideStore::SideStore;
        ReadResult head(const std::string&, const ReadOptions&) override { throw S3Error(403, "AccessDenied", "no"); }
        ReadResult get(const std::string&, const ReadOptions&, BodySink&) override { throw S3Error(403, "AccessDenied", "no"); }
    };
    auto refusing = std::make_shared<Refusing>("remote", std::map<std::string, std::string>{});
    MergedStore m(local, refusing, [](const std::string&) { return true; });
    CHECK(get(m, "fresh-local") == "written since the index looked");
    CHECK(m.head("fresh-local", ReadOptions{}).answered_by == "local");
    int status = 0;
    try {
        get(m, "onprem");
    } catch (const S3Error& e) {
        status = e.status();
    }
    CHECK(status == 403);   // no local copy: the on-prem answer stands
}

TEST_CASE_FIXTURE(Fixture, "only an object settles a routed read: a remote 412 still lets a local copy answer") {
    struct Refusing412 : SideStore {
        using SideStore::SideStore;
        ReadResult get(const std::string& key, const ReadOptions&, BodySink&) override {
            ReadResult r;
            r.status = ReadResult::Status::PreconditionFailed;
            r.info.key = key;
            r.answered_by = "remote";
            return r;
        }
    };
    auto odd = std::make_shared<Refusing412>("remote", std::map<std::string, std::string>{});
    MergedStore m(local, odd, [](const std::string&) { return true; });
    CHECK(get(m, "fresh-local") == "written since the index looked");
    Collect c;
    CHECK(m.get("nowhere", ReadOptions{}, c).status == ReadResult::Status::PreconditionFailed);
}

TEST_CASE_FIXTURE(Fixture, "routed answers are marked: the local store was not asked") {
    MergedStore routed(local, remote, [](const std::string& key) { return key != "both"; });
    struct Head : BodySink {
        bool skipped = false;
        void begin(const ReadResult& h) override { skipped = h.local_skipped; }
        void write(const char*, std::size_t) override {}
    } sink;
    CHECK(routed.get("onprem", ReadOptions{}, sink).local_skipped);
    CHECK(sink.skipped);
    Head local_sink;
    CHECK_FALSE(routed.get("both", ReadOptions{}, local_sink).local_skipped);
    CHECK_FALSE(local_sink.skipped);
    Head fresh_sink;   // remote missed, then the local store answered: it was asked
    CHECK_FALSE(routed.get("fresh-local", ReadOptions{}, fresh_sink).local_skipped);
    CHECK_FALSE(fresh_sink.skipped);
    MergedStore plain(local, remote);
    Head plain_sink;
    CHECK_FALSE(plain.get("onprem", ReadOptions{}, plain_sink).local_skipped);
    CHECK_FALSE(plain_sink.skipped);
}

TEST_CASE_FIXTURE(Fixture, "a remote failure after the first body byte is not retried on the local store") {
    struct Failing : SideStore {
        using SideStore::SideStore;
        ReadResult get(const std::string& key, const ReadOptions& o, BodySink& sink) override {
            ReadResult r = head(key, o);
            sink.begin(r);
            sink.write("par", 3);
            throw unavailable("cut mid-body");
        }
    };
    auto failing = std::make_shared<Failing>("remote", std::map<std::string, std::string>{{"fresh-local", "on-prem"}});
    MergedStore m(local, failing, [](const std::string&) { return true; });
    Collect c;
    CHECK_THROWS_AS(m.get("fresh-local", ReadOptions{}, c), S3Error);
    CHECK(c.body == "par");          // nothing appended after the partial body
    CHECK(local->reads.empty());
}
