// Unit tests for the configuration side of the engine: INI parsing, the main
// settings, the user database, the mapping file and the cloud-bucket layout.
#include <doctest/doctest.h>

#include <functional>
#include <stdexcept>
#include <string>

#include "engine/ini.h"
#include "engine/layout.h"
#include "engine/mapping.h"
#include "engine/settings.h"
#include "engine/users.h"

using namespace cc;

namespace {

// The message of the std::runtime_error `f` throws ("" if it throws none).
std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "";
}

Settings settings_of(const std::string& text) {
    return settings_from_ini(IniFile::parse(text, "test.conf"));
}

std::string settings_error(const std::string& text) {
    return error_of([&] { settings_of(text); });
}

std::string users_error(const std::string& json) {
    return error_of([&] { UserDb::parse(json); });
}

std::string mapping_error(const std::string& json) {
    return error_of([&] { Mapping::parse(json); });
}

}  // namespace

// ---------------------------------------------------------------- IniFile

TEST_CASE("ini: a Swift proxy style config") {
    const auto ini = IniFile::parse(
        "[DEFAULT]\n"
        "bind_ip = 0.0.0.0\n"
        "bind_port = 8081\n"
        "swift_baseurl = http://swift.example.com:8080\n"
        "\n"
        "[pipeline:main]\n"
        "pipeline = catch_errors cache swift3 cloud-connector-auth proxy-server\n"
        "\n"
        "[app:proxy-server]\n"
        "use = egg:swift#proxy\n"
        "conf_file = sync-config.json\n"
        "bind_port = 9999\n"
        "\n"
        "[filter:swift3]\n"
        "use = egg:swift3#swift3\n",
        "proxy.conf");
    CHECK(ini.has_section("DEFAULT"));
    CHECK(ini.has_section("app:proxy-server"));
    CHECK_FALSE(ini.has_section("cloud-connector"));
    CHECK(ini.get("DEFAULT", "bind_ip") == "0.0.0.0");
    CHECK(ini.get("app:proxy-server", "conf_file") == "sync-config.json");
    CHECK(ini.get("pipeline:main", "pipeline") == "catch_errors cache swift3 cloud-connector-auth proxy-server");
    // [DEFAULT] is visible from every section, a section's own value wins.
    CHECK(ini.get("filter:swift3", "swift_baseurl") == "http://swift.example.com:8080");
    CHECK(ini.get("app:proxy-server", "bind_port") == "9999");
    CHECK(ini.get("DEFAULT", "bind_port") == "8081");
    // ... even from a section the file does not have.
    CHECK(ini.get("cloud-connector", "bind_ip") == "0.0.0.0");
    CHECK_FALSE(ini.get("app:proxy-server", "nope").has_value());
    CHECK_FALSE(ini.get("DEFAULT", "conf_file").has_value());
    CHECK(ini.sections().size() == 4);
}

TEST_CASE("ini: separators, values containing '=' and ':'") {
    const auto ini = IniFile::parse(
        "[s]\n"
        "a = b = c\n"
        "url = http://host:8080/path?x=1\n"
        "colon: value: with colon\n"
        "first:sep=second\n"
        "spaced   =   trimmed value   \t\n"
        "empty =\n"
        "pct = 100%% and %(x)s\n"
        "inline = value ; not a comment # nor this\n",
        "x");
    CHECK(ini.get("s", "a") == "b = c");
    CHECK(ini.get("s", "url") == "http://host:8080/path?x=1");
    CHECK(ini.get("s", "colon") == "value: with colon");
    CHECK(ini.get("s", "first") == "sep=second");
    CHECK(ini.get("s", "spaced") == "trimmed value");
    CHECK(ini.get("s", "empty") == "");
    CHECK(ini.get("s", "pct") == "100%% and %(x)s");   // no interpolation
    CHECK(ini.get("s", "inline") == "value ; not a comment # nor this");
}

TEST_CASE("ini: comments, blank lines, CRLF, BOM") {
    const auto ini = IniFile::parse(
        "\xEF\xBB\xBF# leading comment\r\n"
        "[DEFAULT]\r\n"
        "; another comment\r\n"
        "   # indented comment\r\n"
        "\r\n"
        "key = value\r\n"
        "other=x\r\n"
        "last = no newline at end",
        "crlf.conf");
    CHECK(ini.get("DEFAULT", "key") == "value");
    CHECK(ini.get("DEFAULT", "other") == "x");
    CHECK(ini.get("DEFAULT", "last") == "no newline at end");
    CHECK(ini.sections().size() == 1);
    CHECK(ini.sections().at("DEFAULT").size() == 3);
}

TEST_CASE("ini: BOM before a section header") {
    const auto ini = IniFile::parse("\xEF\xBB\xBF[DEFAULT]\nk = v\n", "bom");
    CHECK(ini.has_section("DEFAULT"));
    CHECK(ini.get("DEFAULT", "k") == "v");
}

TEST_CASE("ini: continuation lines") {
    const auto ini = IniFile::parse(
        "[pipeline:main]\n"
        "pipeline = catch_errors\n"
        "    cache\n"
        "\tproxy-server\n"
        "after = x\n"
        "  indented = own key\n"
        "  next = also own key\n",
        "x");
    CHECK(ini.get("pipeline:main", "pipeline") == "catch_errors\ncache\nproxy-server");
    CHECK(ini.get("pipeline:main", "after") == "x\nindented = own key\nnext = also own key");
    CHECK_FALSE(ini.get("pipeline:main", "indented").has_value());

    // Keys that are themselves indented: only deeper indentation continues.
    const auto ini2 = IniFile::parse(
        "[s]\n"
        "  a = 1\n"
        "  b = 2\n"
        "      more\n",
        "x");
    CHECK(ini2.get("s", "a") == "1");
    CHECK(ini2.get("s", "b") == "2\nmore");
}

TEST_CASE("ini: duplicate sections merge, a repeated key keeps the last value") {
    const auto ini = IniFile::parse(
        "[a]\nx = 1\ny = 2\n[b]\nz = 3\n[a]\ny = 20\nw = 4\n", "x");
    CHECK(ini.sections().size() == 2);
    CHECK(ini.get("a", "x") == "1");
    CHECK(ini.get("a", "y") == "20");
    CHECK(ini.get("a", "w") == "4");
    CHECK(ini.get("b", "z") == "3");
}

TEST_CASE("ini: names are case-sensitive, UTF-8 passes through") {
    const auto ini = IniFile::parse("[Sect]\nKey = V\nkey = v\nclé = välue ✓\n", "x");
    CHECK(ini.get("Sect", "Key") == "V");
    CHECK(ini.get("Sect", "key") == "v");
    CHECK_FALSE(ini.get("sect", "key").has_value());
    CHECK(ini.get("Sect", "clé") == "välue ✓");
}

TEST_CASE("ini: empty input and comment-only input") {
    CHECK(IniFile::parse("", "x").sections().empty());
    CHECK(IniFile::parse("# only\n\n; comments\n", "x").sections().empty());
}

TEST_CASE("ini: syntax errors name origin and line") {
    CHECK(error_of([] { IniFile::parse("key = value\n", "a.conf"); }) ==
          "a.conf:1: key 'key' outside of any [section]");
    CHECK(error_of([] { IniFile::parse("[s]\nok = 1\r\nno separator here\n", "b.conf"); }) ==
          "b.conf:3: expected 'key = value': no separator here");
    CHECK(error_of([] { IniFile::parse("# c\n[unterminated\n", "c.conf"); })
              .starts_with("c.conf:2: malformed section header"));
    CHECK(error_of([] { IniFile::parse("[]\n", "d.conf"); }).starts_with("d.conf:1: "));
    CHECK(error_of([] { IniFile::parse("[s]\n = value\n", "e.conf"); }).starts_with("e.conf:2: missing key"));
}

// ---------------------------------------------------------------- Settings

TEST_CASE("settings: defaults with only swift_baseurl") {
    const auto s = settings_of("[DEFAULT]\nswift_baseurl = http://swift.example.com:8080\n");
    CHECK(s.swift_baseurl == "http://swift.example.com:8080");
    const Settings d;
    CHECK(s.bind_ip == d.bind_ip);
    CHECK(s.bind_port == 8081);
    CHECK(s.log_level == "info");
    CHECK(s.mapping_file == "sync-config.json");
    CHECK(s.users_file == "s3-passwd.json");
    CHECK(s.state_dir == d.state_dir);
    CHECK(s.reload_interval == 30);
    CHECK(s.max_threads == d.max_threads);
    CHECK(s.backend_connect_timeout == d.backend_connect_timeout);
    CHECK(s.backend_timeout == d.backend_timeout);
    CHECK(s.remote_region == "us-east-1");
    CHECK(s.max_skew_seconds == 900);
}

TEST_CASE("settings: a full reference-style config") {
    const auto s = settings_of(
        "[DEFAULT]\n"
        "bind_ip = 127.0.0.1\n"
        "bind_port = 8081\n"
        "swift_baseurl = https://swift.example.com/\n"
        "log_level = WARN\n"
        "workers = 4\n"
        "\n"
        "[pipeline:main]\n"
        "pipeline = catch_errors cache swift3 cloud-connector-auth proxy-server\n"
        "\n"
        "[app:proxy-server]\n"
        "use = egg:swift-s3-sync#cloud-connector\n"
        "conf_file = a_config_prefix/sync-config.json\n"
        "\n"
        "[filter:cloud-connector-auth]\n"
        "use = egg:swift-s3-sync#cloud-connector-auth\n"
        "s3_passwd_json = s3-passwd.json\n"
        "\n"
        "[filter:swift3]\n"
        "use = egg:swift3#swift3\n"
        "\n"
        "[cloud-connector]\n"
        "state_dir = /tmp/state\n"
        "reload_interval = 10\n"
        "max_threads = 64\n"
        "backend_connect_timeout = 3\n"
        "backend_timeout = 20\n"
        "remote_region = eu-west-1\n"
        "max_skew_seconds = 300\n");
    CHECK(s.bind_ip == "127.0.0.1");
    CHECK(s.bind_port == 8081);
    CHECK(s.swift_baseurl == "https://swift.example.com");
    CHECK(s.log_level == "warning");
    CHECK(s.mapping_file == "a_config_prefix/sync-config.json");
    CHECK(s.users_file == "s3-passwd.json");
    CHECK(s.state_dir == "/tmp/state");
    CHECK(s.reload_interval == 10);
    CHECK(s.max_threads == 64);
    CHECK(s.backend_connect_timeout == 3);
    CHECK(s.backend_timeout == 20);
    CHECK(s.remote_region == "eu-west-1");
    CHECK(s.max_skew_seconds == 300);
}

TEST_CASE("settings: swift_baseurl") {
    CHECK(settings_error("[DEFAULT]\nbind_port = 8081\n") == "[DEFAULT] swift_baseurl: missing");
    CHECK(settings_error("") == "[DEFAULT] swift_baseurl: missing");
    CHECK(settings_error("[DEFAULT]\nswift_baseurl =\n") == "[DEFAULT] swift_baseurl: missing");
    // Only [DEFAULT] counts for it.
    CHECK(settings_error("[app:proxy-server]\nswift_baseurl = http://x\n") == "[DEFAULT] swift_baseurl: missing");
    CHECK(settings_error("[DEFAULT]\nswift_baseurl = ftp://x\n").starts_with("[DEFAULT] swift_baseurl: "));
    CHECK(settings_error("[DEFAULT]\nswift_baseurl = swift.example.com\n").starts_with("[DEFAULT] swift_baseurl: "));
    CHECK(settings_error("[DEFAULT]\nswift_baseurl = http://\n").starts_with("[DEFAULT] swift_baseurl: "));
    CHECK(settings_error("[DEFAULT]\nswift_baseurl = https:///\n").starts_with("[DEFAULT] swift_baseurl: "));
    CHECK(settings_of("[DEFAULT]\nswift_baseurl = http://h:8080//\n").swift_baseurl == "http://h:8080");
    CHECK(settings_of("[DEFAULT]\nswift_baseurl = http://h/base/\n").swift_baseurl == "http://h/base");
    CHECK(settings_of("[DEFAULT]\nswift_baseurl = HTTPS://H\n").swift_baseurl == "https://H");
}

TEST_CASE("settings: log_level") {
    const std::string base = "[DEFAULT]\nswift_baseurl = http://h\nlog_level = ";
    CHECK(settings_of(base + "debug\n").log_level == "debug");
    CHECK(settings_of(base + "INFO\n").log_level == "info");
    CHECK(settings_of(base + "warning\n").log_level == "warning");
    CHECK(settings_of(base + "Warn\n").log_level == "warning");
    CHECK(settings_of(base + "ERROR\n").log_level == "error");
    CHECK(settings_error(base + "verbose\n").starts_with("[DEFAULT] log_level: "));
    CHECK(settings_error(base + "\n").starts_with("[DEFAULT] log_level: "));
}

TEST_CASE("settings: integers parse fully and stay in range") {
    const std::string base = "[DEFAULT]\nswift_baseurl = http://h\n";
    CHECK(settings_of(base + "bind_port = 1\n").bind_port == 1);
    CHECK(settings_of(base + "bind_port = 65535\n").bind_port == 65535);
    CHECK(settings_of(base + "bind_port = +80\n").bind_port == 80);
    CHECK(settings_error(base + "bind_port = 0\n") == "[DEFAULT] bind_port: out of range 1..65535: '0'");
    CHECK(settings_error(base + "bind_port = 65536\n") == "[DEFAULT] bind_port: out of range 1..65535: '65536'");
    CHECK(settings_error(base + "bind_port = 80x\n") == "[DEFAULT] bind_port: not a positive integer: '80x'");
    CHECK(settings_error(base + "bind_port = -80\n") == "[DEFAULT] bind_port: not a positive integer: '-80'");
    CHECK(settings_error(base + "bind_port = 8 0\n").starts_with("[DEFAULT] bind_port: not a positive integer"));
    CHECK(settings_error(base + "bind_port = 0x50\n").starts_with("[DEFAULT] bind_port: not a positive integer"));
    CHECK(settings_error(base + "bind_port =\n").starts_with("[DEFAULT] bind_port: not a positive integer"));
    CHECK(settings_error(base + "bind_port = 99999999999999999999999\n")
              .starts_with("[DEFAULT] bind_port: out of range"));

    const std::string own = base + "[cloud-connector]\n";
    CHECK(settings_error(own + "reload_interval = x\n") ==
          "[cloud-connector] reload_interval: not a positive integer: 'x'");
    CHECK(settings_error(own + "reload_interval = 0\n").starts_with("[cloud-connector] reload_interval: out of range"));
    CHECK(settings_error(own + "reload_interval = 1.5\n")
              .starts_with("[cloud-connector] reload_interval: not a positive integer"));
    CHECK(settings_error(own + "max_threads = 0\n").starts_with("[cloud-connector] max_threads: "));
    CHECK(settings_error(own + "backend_connect_timeout = -1\n")
              .starts_with("[cloud-connector] backend_connect_timeout: "));
    CHECK(settings_error(own + "backend_timeout = 0\n").starts_with("[cloud-connector] backend_timeout: "));
    CHECK(settings_error(own + "max_skew_seconds = abc\n").starts_with("[cloud-connector] max_skew_seconds: "));
}

TEST_CASE("settings: present-but-empty strings are errors, unknown keys are ignored") {
    const std::string base = "[DEFAULT]\nswift_baseurl = http://h\n";
    CHECK(settings_error(base + "[app:proxy-server]\nconf_file =\n") == "[app:proxy-server] conf_file: empty");
    CHECK(settings_error(base + "[filter:cloud-connector-auth]\ns3_passwd_json =\n") ==
          "[filter:cloud-connector-auth] s3_passwd_json: empty");
    CHECK(settings_error(base + "[cloud-connector]\nstate_dir =\n") == "[cloud-connector] state_dir: empty");
    CHECK(settings_error(base + "bind_ip =\n") == "[DEFAULT] bind_ip: empty");
    const auto s = settings_of(base + "whatever = 1\n[filter:swift3]\nuse = egg:swift3#swift3\n"
                                      "[cloud-connector]\nfuture_option = yes\n");
    CHECK(s.swift_baseurl == "http://h");
}

// ---------------------------------------------------------------- UserDb

TEST_CASE("users: parse and look up") {
    const auto db = UserDb::parse(R"([
        {"access_key": "test:tester", "secret_key": "testing", "account": "AUTH_test"},
        {"access_key": "test:tester2", "secret_key": "testing2", "account": "AUTH_test", "extra": 5},
        {"access_key": "ключ", "secret_key": "sécret✓", "account": "AUTH_ünïcode"},
        {"access_key": "esc\u00e9\ud83d\ude00", "secret_key": "s", "account": "AUTH_other"}
    ])");
    CHECK(db.size() == 4);
    const User* u = db.find("test:tester");
    REQUIRE(u != nullptr);
    CHECK(u->secret_key == "testing");
    CHECK(u->account == "AUTH_test");
    const User* k = db.find("ключ");
    REQUIRE(k != nullptr);
    CHECK(k->secret_key == "sécret✓");
    CHECK(k->account == "AUTH_ünïcode");
    const User* e = db.find("esc\xC3\xA9\xF0\x9F\x98\x80");   // \u escapes decode to UTF-8
    REQUIRE(e != nullptr);
    CHECK(e->account == "AUTH_other");
    CHECK(db.find("nobody") == nullptr);
    CHECK(db.find("TEST:TESTER") == nullptr);
    CHECK(db.find("") == nullptr);
    // The account's first user in file order.
    const User* a = db.any_user_of("AUTH_test");
    REQUIRE(a != nullptr);
    CHECK(a->access_key == "test:tester");
    REQUIRE(db.any_user_of("AUTH_ünïcode") != nullptr);
    CHECK(db.any_user_of("AUTH_ünïcode")->access_key == "ключ");
    CHECK(db.any_user_of("AUTH_none") == nullptr);
}

TEST_CASE("users: empty list, BOM, copies") {
    CHECK(UserDb::parse("[]").size() == 0);
    CHECK(UserDb::parse("[]").any_user_of("AUTH_test") == nullptr);
    const auto db = UserDb::parse("\xEF\xBB\xBF[{\"access_key\":\"a\",\"secret_key\":\"b\",\"account\":\"c\"}]");
    const UserDb copy = db;
    REQUIRE(copy.find("a") != nullptr);
    CHECK(copy.any_user_of("c") == copy.find("a"));
}

TEST_CASE("users: errors") {
    CHECK(users_error("[").starts_with("user database: invalid JSON"));
    CHECK(users_error("").starts_with("user database: invalid JSON"));
    CHECK(users_error("[] trailing").starts_with("user database: invalid JSON"));
    CHECK(users_error(R"({"access_key": "a"})").starts_with("user database: top level must be"));
    CHECK(users_error("\"str\"").starts_with("user database: top level must be"));
    CHECK(users_error(" 42 ").starts_with("user database: top level must be"));
    CHECK(users_error(R"([{"access_key":"a","secret_key":"b","account":"c"}, 5])") ==
          "user entry 1: must be a JSON object");
    CHECK(users_error(R"([{"access_key":"a","account":"c"}])") == "user entry 0: missing \"secret_key\"");
    CHECK(users_error(R"([{"access_key":"a","secret_key":"b","account":"c"},
                          {"access_key":"d","secret_key":"e"}])") == "user entry 1: missing \"account\"");
    CHECK(users_error(R"([{"secret_key":"b","account":"c"}])") == "user entry 0: missing \"access_key\"");
    CHECK(users_error(R"([{"access_key":"a","secret_key":12,"account":"c"}])") ==
          "user entry 0: \"secret_key\" must be a string");
    CHECK(users_error(R"([{"access_key":null,"secret_key":"b","account":"c"}])") ==
          "user entry 0: \"access_key\" must be a string");
    CHECK(users_error(R"([{"access_key":"a","secret_key":"b","account":["c"]}])") ==
          "user entry 0: \"account\" must be a string");
    CHECK(users_error(R"([{"access_key":"","secret_key":"b","account":"c"}])") ==
          "user entry 0: \"access_key\" must not be empty");
    CHECK(users_error(R"([{"access_key":"dup:ü","secret_key":"b","account":"c"},
                          {"access_key":"x","secret_key":"b","account":"c"},
                          {"access_key":"dup:ü","secret_key":"z","account":"d"}])") ==
          "user entry 2: duplicate access_key \"dup:ü\"");
}

// ---------------------------------------------------------------- Mapping

TEST_CASE("mapping: a 1space sync config") {
    const auto m = Mapping::parse(R"({
        "containers": [
            {"account": "AUTH_test", "container": "/*", "aws_bucket": "all-bucket",
             "aws_endpoint": "", "aws_identity": "id1", "aws_secret": "secret1",
             "protocol": "s3", "copy_after": 0, "propagate_delete": false, "retain_local": true,
             "merge_namespaces": true, "restore_object": true,
             "selection_criteria": {"AND": [{"metadata": {"x": "y"}}]}},
            {"account": "AUTH_test", "container": "s3-restore", "aws_bucket": "restore-bucket",
             "aws_endpoint": "http://minio:9000", "aws_identity": "id2", "aws_secret": "secret2",
             "custom_prefix": "/restored/prefix/", "aws_region": "eu-central-1"},
            {"account": "AUTH_swift", "container": "c", "aws_bucket": "remote",
             "aws_endpoint": "http://other-swift:8080/auth/v1.0", "protocol": "swift",
             "custom_prefix": ""},
            {"account": "AUTH_ünï", "container": "cönt", "aws_bucket": "b",
             "custom_prefix": null, "aws_endpoint": null}
        ],
        "migrations": [{"account": "AUTH_x", "aws_bucket": "/*"}],
        "migrator_settings": {"workers": 4},
        "devices": "/srv/node",
        "log_file": "/var/log/swift-s3-sync.log"
    })");
    REQUIRE(m.entries().size() == 4);

    const auto& w = m.entries()[0];
    CHECK(w.is_wildcard());
    CHECK(w.aws_bucket == "all-bucket");
    CHECK(w.aws_endpoint == "");
    CHECK(w.aws_identity == "id1");
    CHECK(w.aws_secret == "secret1");
    CHECK(w.protocol == "s3");
    CHECK_FALSE(w.custom_prefix.has_value());
    CHECK(w.aws_region == "us-east-1");

    const auto& r = m.entries()[1];
    CHECK_FALSE(r.is_wildcard());
    CHECK(r.aws_endpoint == "http://minio:9000");
    CHECK(r.protocol == "s3");
    CHECK(r.custom_prefix == std::optional<std::string>("restored/prefix"));
    CHECK(r.aws_region == "eu-central-1");

    const auto& s = m.entries()[2];
    CHECK(s.protocol == "swift");
    CHECK(s.custom_prefix == std::optional<std::string>(""));

    const auto& u = m.entries()[3];
    CHECK(u.account == "AUTH_ünï");
    CHECK(u.container == "cönt");
    CHECK_FALSE(u.custom_prefix.has_value());   // null = absent
    CHECK(u.aws_endpoint == "");
    CHECK(u.aws_identity == "");

    // Exact beats wildcard, even when the wildcard comes first.
    CHECK(m.resolve("AUTH_test", "s3-restore") == &m.entries()[1]);
    CHECK(m.resolve("AUTH_test", "anything") == &m.entries()[0]);
    CHECK(m.resolve("AUTH_swift", "c") == &m.entries()[2]);
    CHECK(m.resolve("AUTH_swift", "d") == nullptr);
    CHECK(m.resolve("AUTH_ünï", "cönt") == &m.entries()[3]);
    CHECK(m.resolve("AUTH_other", "s3-restore") == nullptr);
    CHECK(m.resolve("AUTH_tes", "ts3-restore") == nullptr);
    CHECK(m.resolve("AUTH_test/", "s3-restore") == nullptr);
}

TEST_CASE("mapping: exact entry after the wildcard, copies keep working") {
    const auto m = Mapping::parse(R"({"containers": [
        {"account": "A", "container": "c", "aws_bucket": "exact"},
        {"account": "A", "container": "/*", "aws_bucket": "wild"},
        {"account": "A", "container": "c", "aws_bucket": "second-exact"}]})");
    REQUIRE(m.resolve("A", "c") != nullptr);
    CHECK(m.resolve("A", "c")->aws_bucket == "exact");     // the first of duplicates
    CHECK(m.resolve("A", "x")->aws_bucket == "wild");
    const Mapping copy = m;
    REQUIRE(copy.resolve("A", "c") != nullptr);
    CHECK(copy.resolve("A", "c") == &copy.entries()[0]);
}

TEST_CASE("mapping: custom_prefix slashes") {
    const auto m = Mapping::parse(R"({"containers": [
        {"account": "A", "container": "a", "aws_bucket": "b", "custom_prefix": "/"},
        {"account": "A", "container": "b", "aws_bucket": "b", "custom_prefix": "//x//"},
        {"account": "A", "container": "c", "aws_bucket": "b", "custom_prefix": "x/y"},
        {"account": "A", "container": "d", "aws_bucket": "b", "aws_region": ""}]})");
    CHECK(m.entries()[0].custom_prefix == std::optional<std::string>(""));
    CHECK(m.entries()[1].custom_prefix == std::optional<std::string>("x"));
    CHECK(m.entries()[2].custom_prefix == std::optional<std::string>("x/y"));
    CHECK(m.entries()[3].aws_region == "us-east-1");
}

TEST_CASE("mapping: empty containers list, BOM") {
    CHECK(Mapping::parse(R"({"containers": []})").entries().empty());
    CHECK(Mapping::parse(R"({"containers": [], "migrations": []})").resolve("A", "c") == nullptr);
    CHECK(Mapping::parse("\xEF\xBB\xBF{\"containers\": []}").entries().empty());
}

TEST_CASE("mapping: errors") {
    CHECK(mapping_error("{").starts_with("mapping: invalid JSON"));
    CHECK(mapping_error("").starts_with("mapping: invalid JSON"));
    CHECK(mapping_error("[]").starts_with("mapping: top level must be"));
    CHECK(mapping_error("null").starts_with("mapping: top level must be"));
    CHECK(mapping_error(R"({"migrations": []})") == "mapping: missing \"containers\"");
    CHECK(mapping_error(R"({"containers": {}})") == "mapping: \"containers\" must be a list");
    CHECK(mapping_error(R"({"containers": null})") == "mapping: \"containers\" must be a list");
    CHECK(mapping_error(R"({"containers": ["x"]})") == "mapping entry 0: must be a JSON object");
    CHECK(mapping_error(R"({"containers": [
        {"account": "A", "container": "a", "aws_bucket": "b"},
        {"account": "A", "container": "b", "aws_bucket": "b"},
        {"account": "A", "container": "c"}]})") == "mapping entry 2: missing \"aws_bucket\"");
    CHECK(mapping_error(R"({"containers": [{"container": "c", "aws_bucket": "b"}]})") ==
          "mapping entry 0: missing \"account\"");
    CHECK(mapping_error(R"({"containers": [{"account": "A", "aws_bucket": "b"}]})") ==
          "mapping entry 0: missing \"container\"");
    CHECK(mapping_error(R"({"containers": [{"account": "A", "container": 7, "aws_bucket": "b"}]})") ==
          "mapping entry 0: \"container\" must be a string");
    CHECK(mapping_error(R"({"containers": [{"account": "A", "container": "c", "aws_bucket": null}]})") ==
          "mapping entry 0: \"aws_bucket\" must be a string");
    CHECK(mapping_error(R"({"containers": [{"account": "", "container": "c", "aws_bucket": "b"}]})") ==
          "mapping entry 0: \"account\" must not be empty");
    CHECK(mapping_error(R"({"containers": [{"account": "A", "container": "c", "aws_bucket": "b",
                                            "aws_secret": 5}]})") ==
          "mapping entry 0: \"aws_secret\" must be a string");
    CHECK(mapping_error(R"({"containers": [{"account": "A", "container": "c", "aws_bucket": "b",
                                            "custom_prefix": false}]})") ==
          "mapping entry 0: \"custom_prefix\" must be a string");
    CHECK(mapping_error(R"({"containers": [{"account": "A", "container": "c", "aws_bucket": "b",
                                            "aws_endpoint": {"u": 1}}]})") ==
          "mapping entry 0: \"aws_endpoint\" must be a string");
    CHECK(mapping_error(R"({"containers": [{"account": "A", "container": "c", "aws_bucket": "b",
                                            "protocol": "gcs"}]})")
              .starts_with("mapping entry 0: \"protocol\" must be \"s3\" or \"swift\""));
    CHECK(mapping_error(R"({"containers": [{"account": "A", "container": "c", "aws_bucket": "b",
                                            "protocol": "S3"}]})")
              .starts_with("mapping entry 0: \"protocol\""));
}

// ---------------------------------------------------------------- layout

TEST_CASE("layout: hash_prefix matches the reference") {
    // Expected values computed with Python 3:
    //   hex(int(hashlib.md5(f"{a}/{c}".encode("utf-8")).hexdigest(), 16) % 16**6)[2:]
    // md5("AUTH_test/s3-restore") = f90a379559db956201164d9dc42b77b2
    CHECK(layout::hash_prefix("AUTH_test", "s3-restore") == "2b77b2");
    // md5("AUTH_test/bucket") = 12be88f1f56c064103e4906c10b64bb0
    CHECK(layout::hash_prefix("AUTH_test", "bucket") == "b64bb0");
    // Shorter than 6 digits: no zero padding (found with a loop over "c<N>").
    CHECK(layout::hash_prefix("AUTH_test", "c20") == "e0597");
    CHECK(layout::hash_prefix("AUTH_test", "c156") == "322f");
    // UTF-8 account and container.
    CHECK(layout::hash_prefix("AUTH_é", "cönt ainer") == "d2c748");
    CHECK(layout::hash_prefix("AUTH_тест", "контейнер😀") == "de4074");
}

TEST_CASE("layout: object_prefix") {
    CHECK(layout::object_prefix("AUTH_test", "s3-restore", std::nullopt) == "2b77b2/AUTH_test/s3-restore/");
    CHECK(layout::object_prefix("AUTH_test", "c156", std::nullopt) == "322f/AUTH_test/c156/");
    CHECK(layout::object_prefix("AUTH_é", "cönt ainer", std::nullopt) == "d2c748/AUTH_é/cönt ainer/");
    CHECK(layout::object_prefix("AUTH_test", "s3-restore", std::string("X")) == "X/");
    CHECK(layout::object_prefix("AUTH_test", "s3-restore", std::string("x/y")) == "x/y/");
    CHECK(layout::object_prefix("AUTH_test", "s3-restore", std::string("/x/")) == "x/");
    CHECK(layout::object_prefix("AUTH_test", "s3-restore", std::string("")) == "");
}

TEST_CASE("layout: hidden manifest names") {
    const std::string manifest = ".manifests/"
                                 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                                 ".swift_slo_manifest";
    CHECK(layout::is_hidden_name(manifest, std::string("X")));
    CHECK(layout::is_hidden_name(manifest, std::string("")));
    CHECK_FALSE(layout::is_hidden_name("obj", std::string("X")));
    CHECK_FALSE(layout::is_hidden_name(".manifestsfoo", std::string("X")));
    CHECK_FALSE(layout::is_hidden_name("a/.manifests/b", std::string("")));
    // Without a custom prefix manifests live outside "<P>/<a>/<c>/": a key
    // starting with ".manifests/" there is an ordinary object.
    CHECK_FALSE(layout::is_hidden_name(manifest, std::nullopt));
    CHECK_FALSE(layout::is_hidden_name("obj", std::nullopt));
}
