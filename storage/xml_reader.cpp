#include "storage/xml_reader.h"

#include <Poco/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/NodeList.h>
#include <Poco/SAX/InputSource.h>

#include <cstdlib>
#include <stdexcept>

#include "common/timefmt.h"
#include "common/uri.h"

namespace cc {
namespace {

std::string decode_entities(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '&') { out += s[i]; continue; }
        auto semi = s.find(';', i);
        if (semi == std::string_view::npos) { out += s[i]; continue; }
        std::string_view ent = s.substr(i + 1, semi - i - 1);
        if (ent == "amp") out += '&';
        else if (ent == "lt") out += '<';
        else if (ent == "gt") out += '>';
        else if (ent == "quot") out += '"';
        else if (ent == "apos") out += '\'';
        else if (!ent.empty() && ent[0] == '#') {
            unsigned long cp = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X')
                                   ? std::strtoul(std::string(ent.substr(2)).c_str(), nullptr, 16)
                                   : std::strtoul(std::string(ent.substr(1)).c_str(), nullptr, 10);
            if (cp < 0x80) out += static_cast<char>(cp);
            else if (cp < 0x800) { out += static_cast<char>(0xC0 | (cp >> 6)); out += static_cast<char>(0x80 | (cp & 0x3F)); }
            else if (cp < 0x10000) {
                out += static_cast<char>(0xE0 | (cp >> 12)); out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                out += static_cast<char>(0x80 | (cp & 0x3F));
            } else {
                out += static_cast<char>(0xF0 | (cp >> 18)); out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
                out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F)); out += static_cast<char>(0x80 | (cp & 0x3F));
            }
        } else { out += s.substr(i, semi - i + 1); }
        i = semi;
    }
    return out;
}

std::string child_text(Poco::XML::Element* parent, const char* name) {
    Poco::XML::Element* e = parent->getChildElement(name);
    return e ? e->innerText() : std::string();
}

std::string url_decoded(const std::string& s) {
    std::string out;
    if (!percent_decode(s, out, /*plus_is_space=*/true)) throw std::runtime_error("bad url-encoding in '" + s + "'");
    return out;
}

}  // namespace

std::string xml_first_text(std::string_view xml, std::string_view tag) {
    const std::string open = "<" + std::string(tag) + ">", close = "</" + std::string(tag) + ">";
    auto a = xml.find(open);
    if (a == std::string_view::npos) return {};
    a += open.size();
    auto b = xml.find(close, a);
    if (b == std::string_view::npos) return {};
    return decode_entities(xml.substr(a, b - a));
}

ListPage parse_list_page(const std::string& xml) {
    Poco::XML::DOMParser parser;
    parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, false);
    Poco::AutoPtr<Poco::XML::Document> doc = parser.parseString(xml);
    Poco::XML::Element* root = doc->documentElement();
    if (!root || root->nodeName() != "ListBucketResult") throw std::runtime_error("not a ListBucketResult");
    const bool url_encoded = child_text(root, "EncodingType") == "url";
    auto key_of = [&](const std::string& raw) { return url_encoded ? url_decoded(raw) : raw; };

    ListPage page;
    page.truncated = child_text(root, "IsTruncated") == "true";
    for (Poco::XML::Node* n = root->firstChild(); n; n = n->nextSibling()) {
        if (n->nodeType() != Poco::XML::Node::ELEMENT_NODE) continue;
        auto* e = static_cast<Poco::XML::Element*>(n);
        if (e->nodeName() == "Contents") {
            ListEntry entry;
            entry.info.key = key_of(child_text(e, "Key"));
            entry.info.size = std::strtoull(child_text(e, "Size").c_str(), nullptr, 10);
            entry.info.etag = child_text(e, "ETag");
            entry.info.last_modified = parse_iso8601(child_text(e, "LastModified")).value_or(0);
            page.entries.push_back(std::move(entry));
        } else if (e->nodeName() == "CommonPrefixes") {
            ListEntry entry;
            entry.is_prefix = true;
            entry.info.key = key_of(child_text(e, "Prefix"));
            page.entries.push_back(std::move(entry));
        }
    }
    // Backends list Contents before CommonPrefixes; callers expect one sorted sequence.
    std::stable_sort(page.entries.begin(), page.entries.end(),
                     [](const ListEntry& a, const ListEntry& b) { return a.info.key < b.info.key; });
    if (page.truncated) {
        std::string next = key_of(child_text(root, "NextMarker"));
        if (next.empty() && !page.entries.empty()) next = page.entries.back().info.key;
        page.next_marker = next;
    }
    return page;
}

namespace {
Poco::XML::Element* parse_root(Poco::XML::DOMParser& parser, Poco::AutoPtr<Poco::XML::Document>& doc,
                               const std::string& xml, const char* expected) {
    parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, false);
    doc = parser.parseString(xml);
    Poco::XML::Element* root = doc->documentElement();
    if (!root || root->nodeName() != expected) throw std::runtime_error(std::string("not a ") + expected);
    return root;
}
}  // namespace

PartsPage parse_parts_page(const std::string& xml) {
    Poco::XML::DOMParser parser;
    Poco::AutoPtr<Poco::XML::Document> doc;
    Poco::XML::Element* root = parse_root(parser, doc, xml, "ListPartsResult");
    PartsPage page;
    page.truncated = child_text(root, "IsTruncated") == "true";
    page.next_marker = std::atoi(child_text(root, "NextPartNumberMarker").c_str());
    for (Poco::XML::Node* n = root->firstChild(); n; n = n->nextSibling()) {
        if (n->nodeType() != Poco::XML::Node::ELEMENT_NODE || n->nodeName() != "Part") continue;
        auto* e = static_cast<Poco::XML::Element*>(n);
        PartInfo p;
        p.number = std::atoi(child_text(e, "PartNumber").c_str());
        p.etag = child_text(e, "ETag");
        p.size = std::strtoull(child_text(e, "Size").c_str(), nullptr, 10);
        p.last_modified = parse_iso8601(child_text(e, "LastModified")).value_or(0);
        page.parts.push_back(p);
    }
    return page;
}

UploadsPage parse_uploads_page(const std::string& xml) {
    Poco::XML::DOMParser parser;
    Poco::AutoPtr<Poco::XML::Document> doc;
    Poco::XML::Element* root = parse_root(parser, doc, xml, "ListMultipartUploadsResult");
    UploadsPage page;
    page.truncated = child_text(root, "IsTruncated") == "true";
    page.next_key_marker = child_text(root, "NextKeyMarker");
    page.next_upload_id_marker = child_text(root, "NextUploadIdMarker");
    for (Poco::XML::Node* n = root->firstChild(); n; n = n->nextSibling()) {
        if (n->nodeType() != Poco::XML::Node::ELEMENT_NODE) continue;
        auto* e = static_cast<Poco::XML::Element*>(n);
        if (e->nodeName() == "Upload") {
            UploadInfo u;
            u.key = child_text(e, "Key");
            u.upload_id = child_text(e, "UploadId");
            u.initiated = parse_iso8601(child_text(e, "Initiated")).value_or(0);
            page.uploads.push_back(u);
        } else if (e->nodeName() == "CommonPrefixes") {
            page.common_prefixes.push_back(child_text(e, "Prefix"));
        }
    }
    return page;
}

}  // namespace cc
