#include "config_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace rsexec::rsexecd {
namespace {

constexpr std::string_view blanks = " \t\r";

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(blanks);
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(blanks);
    return text.substr(first, last - first + 1);
}

bool is_key_character(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

} // namespace

ConfigFile parse_config_file(std::string_view text, const std::vector<OptionSpec>& specs) {
    ConfigFile file;
    std::map<std::string, std::size_t, std::less<>> first_line;   // single-valued keys seen so far
    std::size_t number = 0;
    std::size_t position = 0;
    while (position < text.size()) {
        auto end = text.find('\n', position);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view line = trim(text.substr(position, end - position));
        position = end + 1;
        ++number;
        if (line.empty() || line.front() == '#') continue;
        const auto error = [&](std::string message) { file.errors.push_back({number, std::move(message)}); };

        std::size_t key_end = 0;
        while (key_end < line.size() && is_key_character(line[key_end])) ++key_end;
        const std::string_view key = line.substr(0, key_end);
        const bool separated = key_end < line.size() && (line[key_end] == ' ' || line[key_end] == '\t' ||
                                                         line[key_end] == '=');
        if (key.empty() || (key_end < line.size() && !separated)) {
            error("expected 'key = value', 'key value' or 'key', got '" + std::string(line) + "'");
            continue;
        }
        std::string_view rest = trim(line.substr(key_end));
        const bool has_value = !rest.empty();
        if (!rest.empty() && rest.front() == '=') rest = trim(rest.substr(1));
        std::string value(rest);
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);

        const auto spec = std::find_if(specs.begin(), specs.end(), [&](const OptionSpec& s) { return s.name == key; });
        const std::string name(key);
        if (name.front() == '-') {
            error("keys are written without '--', as in 'root = /srv/ftp': got '" + name + "'");
        } else if (keys_not_in_file.count(name)) {
            error("'" + name + "' is for the command line only");
        } else if (spec == specs.end()) {
            error("unknown key '" + name + "' (the keys are rsexecd's long options)");
        } else if (const auto seen = first_line.find(name); seen != first_line.end()) {
            error("'" + name + "' is already set on line " + std::to_string(seen->second));
        } else if (!spec->takes_value) {
            if (!has_value || value == "true" || value == "yes") {
                file.options.push_back({number, name, "--" + name});
                first_line.emplace(name, number);
            } else if (value == "false" || value == "no") {
                first_line.emplace(name, number);
            } else {
                error("'" + name + "' is a flag: give it alone, or = true or false");
            }
        } else if (!has_value) {
            error("'" + name + "' needs a value");
        } else {
            file.options.push_back({number, name, "--" + name + "=" + value});
            if (!spec->repeatable) first_line.emplace(name, number);
        }
    }
    return file;
}

std::vector<OptionSpec> option_specs(const cxxopts::Options& options) {
    std::vector<OptionSpec> specs;
    for (const auto& group : options.groups())
        for (const auto& option : options.group_help(group).options)
            for (const auto& name : option.l)
                if (name.size() > 1) specs.push_back({name, !option.is_boolean, option.is_container});
    return specs;
}

std::vector<std::string> tokens_not_overridden(const ConfigFile& file, const std::set<std::string>& on_command_line) {
    std::vector<std::string> tokens;
    for (const auto& option : file.options)
        if (!on_command_line.count(option.name)) tokens.push_back(option.token);
    return tokens;
}

std::optional<cxxopts::ParseResult> parse_with_config_file(cxxopts::Options& options, int argc, const char* const* argv,
                                                           std::ostream& err) {
    auto command_line = options.parse(argc, argv);
    if (!command_line.count("config")) return command_line;
    const auto path = command_line["config"].as<std::string>();
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        err << "rsexecd: --config " << path << ": " << std::strerror(errno) << '\n';
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    const auto specs = option_specs(options);
    const auto file = parse_config_file(text.str(), specs);
    for (const auto& error : file.errors) err << "rsexecd: " << path << ':' << error.line << ": " << error.message << '\n';
    if (!file.errors.empty()) return std::nullopt;

    std::set<std::string> on_command_line;
    for (const auto& spec : specs)
        if (command_line.count(spec.name)) on_command_line.insert(spec.name);
    std::vector<std::string> tokens{argc > 0 ? argv[0] : "rsexecd"};
    for (auto& token : tokens_not_overridden(file, on_command_line)) tokens.push_back(std::move(token));
    for (int i = 1; i < argc; ++i) tokens.push_back(argv[i]);
    std::vector<const char*> pointers;
    for (const auto& token : tokens) pointers.push_back(token.c_str());
    return options.parse(static_cast<int>(pointers.size()), pointers.data());
}

} // namespace rsexec::rsexecd
