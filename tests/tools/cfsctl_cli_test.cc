// The command line as a user meets it: --help of every cfsctl command (the tree walked from
// `cfsctl --help`), the other tools' --help, bash completion run by bash itself against a
// repository, and `cmake --install` staying inside its prefix.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "support/oci_image.h"
#include "support/support.h"

namespace cfs {
namespace {

namespace fs = test::fs;
using test::cfsctl;
using test::run;
using test::tool;

// The names listed under "Commands:" in a help text.
std::vector<std::string> listed_commands(const std::string& help) {
  std::vector<std::string> out;
  std::istringstream lines(help);
  bool in = false;
  for (std::string l; std::getline(lines, l);) {
    if (l == "Commands:") {
      in = true;
    } else if (l.empty()) {
      in = false;
    } else if (in && l.starts_with("  ")) {
      std::string name = l.substr(2, l.find(' ', 2) - 2);
      if (name != "help") out.push_back(name);
    }
  }
  return out;
}

std::string joined(const std::vector<std::string>& words) {
  std::string s;
  for (const std::string& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

// `cfsctl PATH... --help`, `-h` and `cfsctl help PATH...` print the same help with the
// command's usage, exit 0; returns the help.
std::string expect_help(const std::vector<std::string>& path) {
  std::vector<std::string> argv = {tool("cfsctl").string()};
  argv.insert(argv.end(), path.begin(), path.end());
  std::vector<std::string> with_help = argv, with_h = argv,
                           help_cmd = {tool("cfsctl").string(), "help"};
  with_help.push_back("--help");
  with_h.push_back("-h");
  help_cmd.insert(help_cmd.end(), path.begin(), path.end());
  test::Run r = run(with_help);
  EXPECT_EQ(r.status, 0) << joined(path) << ": " << r.err;
  EXPECT_EQ(r.err, "") << joined(path);
  std::string usage = "Usage: cfsctl" + (path.empty() ? "" : " " + joined(path));
  EXPECT_NE(r.out.find("\n\n" + usage), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nOptions:\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  -h, --help"), std::string::npos) << r.out;
  for (const auto& other : {with_h, help_cmd}) {
    test::Run o = run(other);
    EXPECT_EQ(o.status, 0) << joined(other);
    EXPECT_EQ(o.out, r.out) << joined(other);
  }
  return r.out;
}

TEST(CfsctlCli, EveryCommandHasHelp) {
  std::set<std::string> seen;
  std::vector<std::vector<std::string>> todo = {{}};
  while (!todo.empty()) {
    std::vector<std::string> path = todo.back();
    todo.pop_back();
    seen.insert(joined(path));
    for (const std::string& sub : listed_commands(expect_help(path))) {
      std::vector<std::string> next = path;
      next.push_back(sub);
      todo.push_back(next);
    }
  }
  // composefs-rs 0.9's commands we implement, and ours (fetch and merkle were once unlisted).
  for (const char* c : {"init",
                        "transaction",
                        "gc",
                        "import-image",
                        "images",
                        "oci",
                        "mount",
                        "create-image",
                        "compute-id",
                        "compute-karg",
                        "create-dumpfile",
                        "image-objects",
                        "dump-files",
                        "fsck",
                        "fetch",
                        "merkle",
                        "prepare-boot",
                        "boot-entries",
                        "remove-boot-entry",
                        "oci pull",
                        "oci images",
                        "oci inspect",
                        "oci tag",
                        "oci untag",
                        "oci mount",
                        "oci compute-id",
                        "oci dump",
                        "oci fsck",
                        "oci prepare-boot"}) {
    EXPECT_TRUE(seen.count(c)) << c << " is not in the help";
  }
  // Help wins wherever it is, as with clap: after arguments and other options too.
  test::Run r = run(
      {tool("cfsctl").string(), "--repo", "/nonexistent", "mount", "x", "--fuse", "no", "--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("Usage: cfsctl mount [OPTIONS] <NAME> <MOUNTPOINT>"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("--upperdir <UPPERDIR>"), std::string::npos) << r.out;
  r = run({tool("cfsctl").string(), "oci", "pull", "--help"});
  EXPECT_NE(r.out.find("      --tls-verify <BOOL>"), std::string::npos) << r.out;
  EXPECT_NE(
      r.out.find(
          "  Check the registry's certificate [default: true] [possible values: true, false]\n"),
      std::string::npos)
      << r.out;
}

TEST(CfsctlCli, UsageErrorsNameTheCommand) {
  struct Case {
    std::vector<std::string> args;
    std::string err;  // in stderr
  };
  for (const Case& c : std::vector<Case>{
           {{"help", "bogus"},
            "error: unrecognized subcommand 'bogus'\n\nUsage: cfsctl [OPTIONS] <COMMAND>\n"},
           {{"oci", "bogus"},
            "error: unrecognized subcommand 'bogus'\n\nUsage: cfsctl oci <COMMAND>\n"},
           {{"oci"}, "Usage: cfsctl oci <COMMAND>\n\nCommands:\n  pull"},  // the help, as an error
           {{"--repo", "x"}, "error: 'cfsctl' requires a subcommand but one was not provided"},
           {{"mount", "--bogus"},
            "error: unexpected argument '--bogus' found\n\nUsage: cfsctl mount [OPTIONS] <NAME> "
            "<MOUNTPOINT>\n"},
           {{"oci", "tag", "x"},
            "Usage: cfsctl oci tag <MANIFEST_DIGEST> <NAME>\n\nFor more information, try "
            "'--help'.\n"},
       }) {
    std::vector<std::string> argv = {tool("cfsctl").string()};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    test::Run r = run(argv);
    EXPECT_EQ(r.status, 2) << joined(c.args);
    EXPECT_EQ(r.out, "") << joined(c.args);
    EXPECT_NE(r.err.find(c.err), std::string::npos) << joined(c.args) << ": " << r.err;
  }
}

TEST(CfsctlCli, OtherToolsKeepTheirHelp) {
  struct Case {
    std::string tool, text;
  };
  for (const Case& c : std::vector<Case>{{"mkcomposefs", "usage: "},
                                         {"composefs-info", "usage: "},
                                         {"composefs-dump", "usage: "},
                                         {"composefs-fuse", "usage: "},
                                         {"mount.composefs", "usage: "},
                                         {"composefs-setup-root", "Usage: composefs-setup-root"}}) {
    test::Run r = run({tool(c.tool).string(), "--help"});
    EXPECT_EQ(r.status, 0) << c.tool << ": " << r.err;
    EXPECT_NE((r.out + r.err).find(c.text), std::string::npos) << c.tool << ": " << r.out << r.err;
  }
}

// What bash's completion of `line` (up to its end) offers, through the script cfsctl prints,
// with cfsctl found on PATH as a user runs it.
std::vector<std::string> bash_complete(const std::string& line,
                                       const std::vector<std::string>& env = {}) {
  std::string script =
      "source <(COMPLETE=bash cfsctl) || exit 1\n"
      "COMP_LINE=\"$LINE\"; COMP_POINT=${#COMP_LINE}\n"
      "read -ra COMP_WORDS <<< \"$LINE\"; COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
      "_cfsctl cfsctl || exit 1\n"
      "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
  std::vector<std::string> e = {"PATH=" + tool("cfsctl").parent_path().string() + ":/usr/bin:/bin",
                                "LINE=" + line};
  e.insert(e.end(), env.begin(), env.end());
  test::Run r = run({"bash", "-c", script}, "", e);
  EXPECT_EQ(r.status, 0) << line << ": " << r.err;
  EXPECT_EQ(r.err, "") << line;
  std::vector<std::string> out;
  std::istringstream lines(r.out);
  for (std::string l; std::getline(lines, l);) {
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

using Words = std::vector<std::string>;

// The lines a shell command prints (cfsctl found on PATH), empty ones left out.
Words shell_lines(const std::vector<std::string>& argv) {
  test::Run r = run(argv, "", {"PATH=" + tool("cfsctl").parent_path().string() + ":/usr/bin:/bin"});
  EXPECT_EQ(r.status, 0) << argv.back() << ": " << r.err;
  Words out;
  std::istringstream lines(r.out);
  for (std::string l; std::getline(lines, l);) {
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

// What fish's completion of `line` offers (`complete -C`), through the script cfsctl prints.
Words fish_complete(const std::string& line) {
  return shell_lines({"fish", "--no-config", "-c", "COMPLETE=fish cfsctl | source; complete -C '" + line + "'"});
}

// What zsh's completion offers for `words` with the cursor in the last one: the script's
// _cfsctl run with compadd and _files standing in for the completion system's own.
Words zsh_complete(const Words& words) {
  std::string w;
  for (const std::string& word : words) w += " '" + word + "'";
  return shell_lines({"zsh", "-fc",
                      "compdef() { :; }; compadd() { [[ $1 == -a ]] && print -l -- ${(P)2}; }; "
                      "_files() { print FILES; }; source <(COMPLETE=zsh cfsctl) || exit 1; words=(" +
                          w + "); CURRENT=${#words}; _cfsctl"});
}

TEST(CfsctlCli, BashCompletion) {
  test::TempDir tmp;
  test::Run r =
      run({"bash", "-c",
           "source <(COMPLETE=bash " + tool("cfsctl").string() + ") && complete -p cfsctl"});
  EXPECT_EQ(r.out, "complete -o default -F _cfsctl cfsctl\n") << r.err;

  fs::path repo = tmp / "repo";
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  fs::create_directories(tmp / "tree/usr");
  test::write_file(tmp / "tree/usr/f", "f");
  ASSERT_EQ(cfsctl(repo, {"create-image", (tmp / "tree").string(), "os-1"}).status, 0);
  test::WrittenImage app =
      test::write_layout(tmp / "layout", {test::Layer{test::make_tar({test::dir("usr/")})}}, "1");
  ASSERT_EQ(
      cfsctl(repo, {"oci", "pull", "oci:" + (tmp / "layout").string() + ":1", "app:1"}).status, 0);
  std::string digest =
      run({tool("cfsctl").string(), "--repo", repo.string(), "oci", "images", "--json"}).out;
  std::size_t at = digest.find("\"manifest_digest\": \"");
  ASSERT_NE(at, std::string::npos) << digest;
  digest = digest.substr(at + 20, 71);
  std::string R = "cfsctl --repo " + repo.string() + " ";

  std::vector<std::string> top = bash_complete("cfsctl ");
  for (const char* c : {"init", "oci", "mount", "fetch", "merkle", "help"}) {
    EXPECT_NE(std::find(top.begin(), top.end(), c), top.end()) << c;
  }
  EXPECT_EQ(bash_complete("cfsctl --re"), (Words{"--repo", "--require-verity"}));
  EXPECT_EQ(bash_complete("cfsctl --hash "), (Words{"sha256", "sha512"}));
  EXPECT_EQ(bash_complete("cfsctl --hash=sha5"), (Words{"sha512"}));  // bash keeps "--hash="
  EXPECT_EQ(bash_complete("cfsctl oci pu"), (Words{"pull"}));
  EXPECT_EQ(bash_complete("cfsctl help oci im"), (Words{"images", "import-layer"}));
  EXPECT_EQ(bash_complete(R + "mount "), (Words{"os-1"}));
  EXPECT_EQ(bash_complete(R + "gc --root o"), (Words{"os-1"}));
  EXPECT_EQ(bash_complete(R + "mount --fuse "), (Words{"auto", "yes", "no"}));
  EXPECT_EQ(bash_complete(R + "oci untag "), (Words{"app:1"}));
  EXPECT_EQ(bash_complete(R + "oci untag app:"), (Words{"1"}));  // after bash's ':' break
  EXPECT_EQ(bash_complete(R + "oci tag "), (Words{digest}));
  EXPECT_EQ(bash_complete(R + "oci inspect "), (Words{"app:1", "@" + digest}));
  EXPECT_EQ(bash_complete(R + "oci mount app:1 "), (Words{}));  // a directory: bash's own
  Words pull = bash_complete(R + "oci pull --");
  for (const char* o : {"--bootable", "--tls-verify", "--creds", "--help"}) {
    EXPECT_NE(std::find(pull.begin(), pull.end(), o), pull.end()) << o;
  }
  // --user's repository is $HOME's; a repository that does not open offers nothing.
  fs::create_directories(tmp / "home/.var/lib");
  fs::rename(repo, tmp / "home/.var/lib/composefs");
  EXPECT_EQ(bash_complete("cfsctl --user image-objects ", {"HOME=" + (tmp / "home").string()}),
            (Words{"os-1"}));
  EXPECT_EQ(bash_complete(R + "mount "), (Words{}));
}

TEST(CfsctlCli, ZshAndFishCompletion) {
  CFS_REQUIRE(run({"sh", "-c", "command -v zsh && command -v fish"}).status == 0,
              "zsh and fish are not installed (scripts/setup.sh installs them)");
  test::TempDir tmp;
  fs::path repo = tmp / "repo";
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  fs::create_directories(tmp / "tree/usr");
  test::write_file(tmp / "tree/usr/f", "f");
  ASSERT_EQ(cfsctl(repo, {"create-image", (tmp / "tree").string(), "os-1"}).status, 0);
  std::string R = "cfsctl --repo " + repo.string() + " ";

  EXPECT_EQ(fish_complete("cfsctl --hash "), (Words{"sha256", "sha512"}));  // an empty word
  EXPECT_EQ(fish_complete("cfsctl oci pu"), (Words{"pull"}));
  EXPECT_EQ(fish_complete("cfsctl --re"), (Words{"--repo", "--require-verity"}));
  EXPECT_EQ(fish_complete(R + "mount "), (Words{"os-1"}));
  EXPECT_EQ(fish_complete(R + "create-image " + (tmp / "tr").string()), (Words{(tmp / "tree/").string()}));

  EXPECT_EQ(zsh_complete({"cfsctl", "--hash", ""}), (Words{"sha256", "sha512"}));
  EXPECT_EQ(zsh_complete({"cfsctl", "oci", "pu"}), (Words{"pull"}));
  EXPECT_EQ(zsh_complete({"cfsctl", "--repo", repo.string(), "mount", ""}), (Words{"os-1"}));
  EXPECT_EQ(zsh_complete({"cfsctl", "create-image", "/"}), (Words{"FILES"}));  // zsh's own
}

}  // namespace
}  // namespace cfs
