// composefs-setup-root's TOML configuration: composefs-rs's defaults and precedence, and
// errors that name the file and line.
#include "boot/setup_root_config.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "support/support.h"

namespace cfs::boot {
namespace {

using M = StateMount;

TEST(SetupRootConfig, ModesAsComposefsRs) {
  struct Case {
    std::string text;
    M etc, var;
    bool root_transient;
  } cases[] = {
      {"", M::kOverlay, M::kBind, false},  // the defaults
      {"[etc]\nmount = \"bind\"\n[var]\nmount = \"overlay\"\n", M::kBind, M::kOverlay, false},
      {"[etc]\nmount = \"none\"\n[var]\nmount = \"none\"\n", M::kNone, M::kNone, false},
      {"[etc]\ntransient = true\n", M::kTransient, M::kBind, false},
      {"[var]\ntransient = true\n", M::kOverlay, M::kTransient, false},
      {"[etc]\ntransient = false\n", M::kOverlay, M::kBind, false},
      // mount wins over transient
      {"[etc]\nmount = \"overlay\"\ntransient = true\n", M::kOverlay, M::kBind, false},
      {"[var]\nmount = \"transient\"\n", M::kOverlay, M::kTransient, false},
      {"[root]\ntransient = true\n", M::kOverlay, M::kBind, true},
      {"root.transient = true\netc.mount = \"bind\"\n", M::kBind, M::kBind, true},  // dotted keys
      // Unknown tables and keys are ignored, as serde does.
      {"[boot]\nx = 1\n[etc]\ncolour = \"blue\"\n[root]\nother = 2\n", M::kOverlay, M::kBind,
       false},
  };
  for (const Case& c : cases) {
    SetupRootConfig cfg = parse_setup_root_config(c.text, "conf.toml");
    EXPECT_EQ(cfg.etc_mode(), c.etc) << c.text;
    EXPECT_EQ(cfg.var_mode(), c.var) << c.text;
    EXPECT_EQ(cfg.root_transient, c.root_transient) << c.text;
  }
}

TEST(SetupRootConfig, ErrorsNameFileAndLine) {
  struct Case {
    std::string text;
    std::string message;  // the whole error
  } cases[] = {
      {"[etc]\nmount = \"tmpfs\"\n",
       "conf.toml:2:9: [etc] mount: unknown value 'tmpfs' (expected none, bind, overlay or "
       "transient)"},
      {"[var]\n\ntransient = \"yes\"\n",
       "conf.toml:3:13: [var] transient: expected a boolean, got a string"},
      {"[var]\nmount = 1\n", "conf.toml:2:9: [var] mount: expected a string, got an integer"},
      {"etc = 3\n", "conf.toml:1:7: etc: expected a table, got an integer"},
      {"[root]\ntransient = 1\n",
       "conf.toml:2:13: [root] transient: expected a boolean, got an integer"},
  };
  for (const Case& c : cases) {
    try {
      parse_setup_root_config(c.text, "conf.toml");
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), EINVAL);
      EXPECT_EQ(std::string(e.what()), c.message);
    }
  }
  // Malformed TOML: tomlplusplus's description, at its position.
  for (std::string text : {"[etc\n", "[etc]\nmount = \"bind\n", "[etc]\n[etc]\n"}) {
    try {
      parse_setup_root_config(text, "conf.toml");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& e) {
      EXPECT_TRUE(std::string(e.what()).starts_with("conf.toml:")) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  }
}

TEST(SetupRootConfig, LoadsAFileOrTheDefaults) {
  test::TempDir tmp;
  SetupRootConfig none = load_setup_root_config((tmp / "missing.toml").string());
  EXPECT_EQ(none.etc_mode(), M::kOverlay);
  EXPECT_EQ(none.var_mode(), M::kBind);
  test::write_file(tmp / "c.toml", "[root]\ntransient = true\n[var]\nmount = \"none\"\n");
  SetupRootConfig file = load_setup_root_config((tmp / "c.toml").string());
  EXPECT_TRUE(file.root_transient);
  EXPECT_EQ(file.var_mode(), M::kNone);
  test::write_file(tmp / "bad.toml", "[etc]\nmount = \"x\"\n");
  try {
    load_setup_root_config((tmp / "bad.toml").string());
    ADD_FAILURE() << "accepted bad.toml";
  } catch (const Error& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with((tmp / "bad.toml").string() + ":2:9: "))
        << e.what();
  }
  // A directory is not a file: an error naming it, not the defaults.
  EXPECT_THROW(load_setup_root_config(tmp.path().string()), Error);
}

}  // namespace
}  // namespace cfs::boot
