// composefs-setup-root's configuration, /usr/lib/composefs/setup-root-conf.toml, as
// composefs-rs 0.9 reads it (crates/composefs-setup-root/src/main.rs):
//
//   [etc]  mount = "none" | "bind" | "overlay" | "transient"   (default: overlay)
//          transient = true   (the same as mount = "transient"; mount wins)
//   [var]  the same keys                                       (default: bind)
//   [root] transient = true   (a tmpfs overlay over the whole image)
//
// Unknown tables and keys are ignored, as serde does without deny_unknown_fields; a wrong
// type or an unknown mount value is an error. Layer: boot (parse is pure; load reads a file).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cfs::boot {

enum class StateMount {
  kNone,       // the image's directory as it is
  kBind,       // <state>/<dir> itself
  kOverlay,    // the image's directory under <state>/<dir>/upper (work: <state>/<dir>/work)
  kTransient,  // the image's directory under a tmpfs: writable, forgotten at shutdown
};

std::string_view name_of(StateMount mode);

struct StateMountConfig {
  std::optional<StateMount> mount;
  bool transient = false;
  // What is mounted: `mount` if given, else kTransient if `transient`, else `fallback`.
  StateMount mode(StateMount fallback) const;
};

struct SetupRootConfig {
  StateMountConfig etc, var;
  bool root_transient = false;
  StateMount etc_mode() const { return etc.mode(StateMount::kOverlay); }
  StateMount var_mode() const { return var.mode(StateMount::kBind); }
};

// The configuration in `text`; `source` names it in errors: Error(EINVAL)
// "<source>:<line>:<column>: <what is wrong>".
SetupRootConfig parse_setup_root_config(std::string_view text, const std::string& source);

// The file at `path`; the defaults when there is no such file. Error as above, or naming the
// path when it cannot be read.
SetupRootConfig load_setup_root_config(const std::string& path);

}  // namespace cfs::boot
