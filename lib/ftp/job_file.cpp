#include "ftp/job_file.hpp"

#include <sstream>

#include <nlohmann/json.hpp>

namespace rsexec {
namespace {

Error line_error(std::size_t line, const std::string& what) {
    return Error(Errc::bad_job, "line " + std::to_string(line) + ": " + what);
}

constexpr std::string_view space_hint = "a space inside a URL is written %20";

bool looks_like_url(std::string_view word) { return word.find("://") != std::string_view::npos; }

// "ftp://h/a b.txt ftp://h2/": the words up to the next URL, joined as the URL they were meant to be.
std::string joined_with_escaped_spaces(const std::vector<std::string>& words, std::size_t from) {
    std::string url = words[from];
    for (std::size_t i = from + 1; i < words.size() && !looks_like_url(words[i]); ++i) url += "%20" + words[i];
    return url;
}

Expected<JobItem> item_of(std::size_t line, std::string_view source, std::string_view destination, bool append) {
    // Either side may be a local file (file:///abs/path or /abs/path), not both.
    auto src = parse_url(source);
    if (!src) return line_error(line, "source: " + src.error().message);
    auto dst = parse_url(destination);
    if (!dst) return line_error(line, "destination: " + dst.error().message);
    if (src->names_directory()) return line_error(line, "source names a directory, not a file");
    if (src->is_local() && dst->is_local()) return line_error(line, "both sides are local files (use cp)");
    return JobItem{line, std::move(*src), std::move(*dst), append, std::nullopt, std::nullopt};
}

Expected<JobItem> parse_json_line(std::size_t line, std::string_view text) {
    const auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded() || !json.is_object()) return line_error(line, "not a JSON object");
    for (const auto& [key, value] : json.items())
        if (key != "src" && key != "dst" && key != "append" && key != "overwrite" &&
            key != "relay" && key != "mkdirs")
            return line_error(line, "unknown field '" + key.substr(0, 40) + "'");
    if (!json.contains("src") || !json["src"].is_string()) return line_error(line, "\"src\" must be a string");
    if (!json.contains("dst") || !json["dst"].is_string()) return line_error(line, "\"dst\" must be a string");
    bool append = false;
    if (json.contains("append")) {
        if (!json["append"].is_boolean()) return line_error(line, "\"append\" must be true or false");
        append = json["append"].get<bool>();
    }
    std::optional<Overwrite> overwrite;
    if (json.contains("overwrite")) {
        if (json["overwrite"].is_string()) overwrite = parse_overwrite(json["overwrite"].get<std::string>());
        if (!overwrite)
            return line_error(line, "\"overwrite\" must be \"always\", \"never\", \"if-different\", \"newer\" or "
                                    "\"if-different-or-newer\"");
    }
    std::optional<std::string> relay;
    if (json.contains("relay")) {
        const auto& value = json["relay"];
        if (!value.is_string() || (value != "auto" && value != "never" && value != "always"))
            return line_error(line, "\"relay\" must be \"auto\", \"never\" or \"always\"");
        relay = value.get<std::string>();
    }
    std::optional<bool> mkdirs;
    if (json.contains("mkdirs")) {
        if (!json["mkdirs"].is_boolean()) return line_error(line, "\"mkdirs\" must be true or false");
        mkdirs = json["mkdirs"].get<bool>();
    }
    auto item = item_of(line, json["src"].get<std::string>(), json["dst"].get<std::string>(), append);
    if (item) {
        item->overwrite = overwrite;
        item->relay = std::move(relay);
        item->mkdirs = mkdirs;
    }
    return item;
}

Expected<JobItem> parse_text_line(std::size_t line, std::string_view text) {
    std::vector<std::string> words;
    std::istringstream in{std::string(text)};
    for (std::string word; in >> word;) words.push_back(word);
    // A raw space splits a URL into words: the destination URL then comes third or later.
    for (std::size_t i = 2; i < words.size() && looks_like_url(words[0]); ++i) {
        if (looks_like_url(words[i])) {
            const std::size_t from = looks_like_url(words[1]) ? 1 : 0;
            return line_error(line, std::string(space_hint) + " (did you mean " +
                                        joined_with_escaped_spaces(words, from).substr(0, 200) + "?)");
        }
    }
    if (words.size() < 2) return line_error(line, "expected SRC_URL DST_URL");
    bool append = false;
    for (std::size_t i = 2; i < words.size(); ++i) {
        if (words[i] == "append") append = true;
        else
            return line_error(line, "unknown option '" + words[i].substr(0, 40) + "' (known: append; " +
                                        std::string(space_hint) + ")");
    }
    return item_of(line, words[0], words[1], append);
}

} // namespace

std::optional<JobItem> JobFileReader::next_line(std::string_view line) {
    const std::size_t number = ++lines_;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') return std::nullopt;
    auto item = line.front() == '{' ? parse_json_line(number, line) : parse_text_line(number, line);
    if (item) {
        ++items_;
        return std::move(*item);
    }
    if (errors_.size() < max_reported_job_errors) {
        const std::string& message = item.error().message;
        const auto colon = message.find(": ");  // line_error's "line N: " prefix
        errors_.push_back({number, colon == std::string::npos ? message : message.substr(colon + 2)});
    } else {
        ++unreported_;
    }
    return std::nullopt;
}

JobFile read_job_file(std::string_view text) {
    JobFile file;
    JobFileReader reader;
    while (!text.empty()) {
        const auto end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        if (auto item = reader.next_line(line)) file.items.push_back(std::move(*item));
    }
    file.unreported_errors = reader.unreported_errors();
    file.errors = reader.take_errors();
    return file;
}

Expected<std::vector<JobItem>> parse_job_file(std::string_view text) {
    auto file = read_job_file(text);
    if (!file.valid()) return line_error(file.errors.front().line, file.errors.front().reason);
    return std::move(file.items);
}

} // namespace rsexec
