#include "cfsctl/complete.h"

#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <optional>

#include "base/file_io.h"
#include "cfsctl/cfsctl.h"
#include "cfsctl/commands.h"
#include "cfsctl/help.h"
#include "oci/stored.h"

namespace cfs::cfsctl {
namespace {

// What the words before the one completed say.
struct Line {
  CommandPath path{&command_tree()};
  Global global;
  const Opt* pending = nullptr;  // the last word was an option that takes a value
  std::size_t positionals = 0;
  bool only_positionals = false;  // after --
  bool help = false;              // after `help`: command names only
  bool unknown = false;           // an unknown command: nothing to offer
};

void apply(Line& l, const Opt& o, const std::string& value) {
  if (l.path.size() != 1) return;  // only the repository's location matters here
  if (o.name == "repo") l.global.repo = value;
  if (o.name == "user") l.global.user = true;
  if (o.name == "system") l.global.system = true;
}

Line walk(const std::vector<std::string>& words, std::size_t index) {
  Line l;
  for (std::size_t i = 1; i < index && !l.unknown; ++i) {
    const std::string& w = words[i];
    const Command& c = *l.path.back();
    if (l.pending != nullptr) {
      apply(l, *l.pending, w);
      l.pending = nullptr;
    } else if (!l.only_positionals && w == "--") {
      l.only_positionals = true;
    } else if (!l.only_positionals && w.size() > 1 && w[0] == '-') {
      std::size_t eq = w.find('=');
      bool inline_value = w.starts_with("--") && eq != std::string::npos;
      const Opt* o = find_option(c, inline_value ? w.substr(0, eq) : w);
      if (o == nullptr) continue;
      if (o->value.empty() || inline_value) {
        apply(l, *o, inline_value ? w.substr(eq + 1) : "");
      } else {
        l.pending = o;
      }
    } else if (!c.subcommands.empty()) {
      if (w == "help" && !l.help) {
        l.help = true;
        continue;
      }
      const Command* sub = find_subcommand(c, w);
      if (sub == nullptr)
        l.unknown = true;
      else
        l.path.push_back(sub);
    } else {
      ++l.positionals;
    }
  }
  return l;
}

// Names and values from the repository the line names; none if it does not open.
std::vector<std::string> repository_values(const Line& l, Values kind, const std::string& cur) {
  std::vector<std::string> out;
  try {
    repo::OpenOptions o;
    o.no_upgrade = true;  // completing must never write
    auto repo = repo::Repository::open(repo_path(l.global), o);
    if (kind == Values::kImage) {
      for (const auto& [name, id] : image_refs(*repo)) {
        out.push_back(name);
        if (cur.starts_with("refs/")) out.push_back("refs/" + name);
      }
      return out;
    }
    for (const auto& [tag, digest] : oci::list_tags(*repo)) {
      if (kind != Values::kOciDigest) out.push_back(tag);
      if (kind == Values::kOciDigest) out.push_back(digest);
      if (kind == Values::kOciTagOrDigest) out.push_back("@" + digest);
    }
  } catch (const std::exception&) {
    return {};
  }
  return out;
}

std::vector<std::string> values_of(const Line& l, Values kind,
                                   const std::vector<std::string_view>& choices,
                                   const std::string& cur) {
  if (!choices.empty()) return {choices.begin(), choices.end()};
  switch (kind) {
    case Values::kImage:
    case Values::kOciTag:
    case Values::kOciDigest:
    case Values::kOciTagOrDigest:
      return repository_values(l, kind, cur);
    default:
      return {};  // paths and free text: the shell's own (file) completion
  }
}

std::vector<std::string> candidates(const Line& l, const std::string& cur) {
  const Command& c = *l.path.back();
  if (l.unknown) return {};
  if (l.pending != nullptr) return values_of(l, l.pending->values, l.pending->choices, cur);
  std::size_t eq = cur.find('=');
  if (cur.starts_with("--") && eq != std::string::npos) {
    const Opt* o = find_option(c, cur.substr(0, eq));
    if (o == nullptr || o->value.empty()) return {};
    std::vector<std::string> out;
    for (const std::string& v : values_of(l, o->values, o->choices, cur.substr(eq + 1))) {
      out.push_back(cur.substr(0, eq + 1) + v);
    }
    return out;
  }
  if (cur.starts_with("-") && !l.only_positionals) {
    std::vector<std::string> out;
    for (const Opt& o : c.options) {
      if (!o.hidden) out.push_back("--" + std::string(o.name));
    }
    out.push_back("--help");
    if (l.path.size() == 1) out.push_back("--version");
    return out;
  }
  if (!c.subcommands.empty()) {
    std::vector<std::string> out;
    for (const Command& sub : c.subcommands) out.emplace_back(sub.name);
    if (!l.help) out.emplace_back("help");
    return out;
  }
  if (l.help || c.args.empty()) return {};
  std::size_t k = l.positionals;
  if (k >= c.args.size()) {
    if (!c.args.back().many) return {};
    k = c.args.size() - 1;
  }
  return values_of(l, c.args[k].values, {}, cur);
}

constexpr const char* kBash =
    R"(# bash completion for cfsctl: cfsctl itself offers the candidates (COMPLETE=bash), from its
# commands and options and the image names, tags and digests of the repository on the line.
_cfsctl() {
    local line=${COMP_LINE:0:COMP_POINT}
    local -a words
    # Split at blanks only: COMP_WORDS would cut docker://host/app:1 and sha256:... at ':'.
    read -ra words <<< "$line"
    [[ $line =~ [[:space:]]$ ]] && words+=('')
    local index=$(( ${#words[@]} - 1 ))
    local IFS=$'\n'
    COMPREPLY=($(COMPLETE=bash _CLAP_COMPLETE_INDEX=$index _CLAP_IFS=$'\n' \
                 "${words[0]}" -- "${words[@]}" 2>/dev/null)) || { COMPREPLY=(); return 0; }
    # bash replaces only the part of the word after its last ':' or '='.
    local cur=${words[index]}
    if [[ $cur == *[:=]* ]]; then
        local keep=${cur%"${cur##*[:=]}"}
        COMPREPLY=("${COMPREPLY[@]#"$keep"}")
    fi
    [[ ${#COMPREPLY[@]} -eq 1 && $COMPREPLY == *= ]] && compopt -o nospace
    return 0
}
complete -o default -F _cfsctl cfsctl
)";

constexpr const char* kZsh = R"(#compdef cfsctl
# zsh completion for cfsctl: cfsctl itself offers the candidates (COMPLETE=zsh).
_cfsctl() {
  local -a candidates
  candidates=("${(@f)$(COMPLETE=zsh _CLAP_COMPLETE_INDEX=$((CURRENT - 1)) _CLAP_IFS=$'\n' \
                       ${words[1]} -- "${words[@]}" 2>/dev/null)}")
  if [[ -n ${candidates[1]} ]]; then
    compadd -a candidates
  else
    _files
  fi
}
if [[ $funcstack[1] == _cfsctl ]]; then _cfsctl "$@"; else compdef _cfsctl cfsctl; fi
)";

// The current word is passed quoted: fish drops an empty command substitution, and cfsctl
// would then complete the word before it. Paths where cfsctl offers nothing, as bash's default.
constexpr const char* kFish =
    R"(# fish completion for cfsctl: cfsctl itself offers the candidates (COMPLETE=fish).
function __cfsctl_complete
    set -l current (commandline -ct)
    set -l candidates (COMPLETE=fish cfsctl -- (commandline -opc) "$current" 2>/dev/null)
    if set -q candidates[1]
        printf '%s\n' $candidates
    else
        __fish_complete_path "$current"
    end
end
complete -c cfsctl -f -a '(__cfsctl_complete)'
)";

}  // namespace

std::vector<std::string> complete(const std::vector<std::string>& words, std::size_t index) {
  if (index == 0 || index >= words.size()) return {};
  const std::string& cur = words[index];
  std::vector<std::string> out;
  for (std::string& c : candidates(walk(words, index), cur)) {
    if (c.starts_with(cur)) out.push_back(std::move(c));
  }
  return out;
}

std::string completion_script(const std::string& shell) {
  if (shell == "bash") return kBash;
  if (shell == "zsh") return kZsh;
  if (shell == "fish") return kFish;
  return "";
}

int complete_main(const std::string& shell, const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "--") {
    std::string script = completion_script(shell);
    if (script.empty()) {
      write_all(STDERR_FILENO, "error: COMPLETE=" + shell +
                                   ": not a shell cfsctl completes for (bash, zsh, fish)\n");
      return 2;
    }
    write_all(STDOUT_FILENO, script);
    return 0;
  }
  std::vector<std::string> words(args.begin() + 1, args.end());
  if (words.empty()) return 0;
  std::size_t index = words.size() - 1;  // fish: the last word
  const char* given = std::getenv("_CLAP_COMPLETE_INDEX");
  if (shell != "fish" && given != nullptr) {
    std::string_view v(given);
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), index);
    if (ec != std::errc() || end != v.data() + v.size()) return 1;
  }
  if (index >= words.size()) words.resize(index + 1);
  const char* ifs = std::getenv("_CLAP_IFS");
  std::string sep = ifs != nullptr && *ifs != '\0' ? ifs : "\n";
  std::string out;
  for (const std::string& c : complete(words, index)) out += (out.empty() ? "" : sep) + c;
  if (!out.empty()) write_all(STDOUT_FILENO, out + "\n");
  return 0;
}

}  // namespace cfs::cfsctl
