// Shell completion for cfsctl, computed by cfsctl itself from the command table and the
// repository (image refs, OCI tags and digests), with clap's dynamic protocol so composefs-rs's
// scripts work too:
//   COMPLETE=bash|zsh|fish cfsctl                 prints the shell's registration script
//   COMPLETE=SHELL _CLAP_COMPLETE_INDEX=I cfsctl -- cfsctl WORD...
//                                                 prints the candidates for WORD number I,
//                                                 separated by $_CLAP_IFS (default newline)
// fish passes no index: the last word is the one completed. Layer: tools.
#pragma once

#include <string>
#include <vector>

namespace cfs::cfsctl {

// The candidates for words[index] (words[0] is the program), given the words before it.
// Repository values come from --repo/--user/--system on the line, else the default
// repository; a repository that does not open gives none. Never throws for bad input.
std::vector<std::string> complete(const std::vector<std::string>& words, std::size_t index);

// The registration script of `shell` ("bash", "zsh", "fish"); empty if unknown.
std::string completion_script(const std::string& shell);

// The COMPLETE=… entry: `args` are argv after the program. Returns the exit code.
int complete_main(const std::string& shell, const std::vector<std::string>& args);

}  // namespace cfs::cfsctl
