// cfsctl cat, oci layer, oci import-layer, oci copy: streams and layers of the repository and
// images between repositories, with composefs-rs 0.9's outputs (cfsctl(1)).
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/file_io.h"
#include "cfsctl/cfsctl.h"
#include "oci/copy.h"
#include "oci/layer.h"
#include "oci/layer_inspect.h"
#include "repo/layout.h"
#include "repo/splitstream.h"
#include "repo/stream_cat.h"
#include "verity/sha256.h"

namespace cfs::cfsctl {
namespace {

// Binary data is not written to a terminal (composefs-rs's wording for layers).
void refuse_terminal(const char* what) {
  if (::isatty(STDOUT_FILENO)) {
    throw Error(EINVAL, std::string("Refusing to write ") + what + " data to terminal. " +
                            "Redirect to a file, pipe to tar, or use --json for metadata.");
  }
}

void to_stdout(std::span<const std::byte> b) { write_all(STDOUT_FILENO, b); }

// A diff_id or layer digest argument, as clap's OciDigest parser takes it.
std::string oci_digest(const std::string& value, std::string_view arg) {
  if (!verity::is_sha256_digest(value)) {
    throw UsageError("invalid value '" + value + "' for '" + std::string(arg) +
                     "': not a sha256:<64 hex digits> digest");
  }
  return value;
}

}  // namespace

int cmd_cat(const Global& g, Args& a) {
  std::string name = a.positionals(1, 1, "<NAME>")[0];
  auto repo = repo::Repository::open(repo_path(g), g.open);
  Digest stream = repo::resolve_stream(*repo, name);
  refuse_terminal("stream");
  std::cout << std::flush;
  repo::cat_stream(*repo, stream, std::nullopt, to_stdout);
  return 0;
}

int cmd_oci_layer(const Global& g, Args& a) {
  bool dumpfile = a.flag("dumpfile"), json = a.flag("json");
  if (dumpfile && json) throw UsageError("the argument '--dumpfile' cannot be used with '--json'");
  std::string diff_id = oci_digest(a.positionals(1, 1, "<LAYER>")[0], "<LAYER>");
  auto repo = repo::Repository::open(repo_path(g), g.open);
  if (json) {
    oci::LayerInfo info = oci::layer_info(*repo, diff_id);
    nlohmann::ordered_json j = {{"diffId", info.diff_id},
                                {"verity", to_hex(info.verity)},
                                {"size", info.size},
                                {"entryCount", info.entry_count},
                                {"splitstream",
                                 {{"externalObjects", info.external_objects},
                                  {"externalSize", info.external_size},
                                  {"inlineSize", info.inline_size}}}};
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  if (dumpfile) {
    oci::layer_dumpfile(*repo, diff_id, [](std::string_view line) { std::cout << line; });
    std::cout << std::flush;
    return 0;
  }
  Digest stream = oci::layer_stream(*repo, diff_id);
  refuse_terminal("tar");
  repo::cat_stream(*repo, stream, repo::content_type_of("ocilayer"), to_stdout);
  return 0;
}

int cmd_oci_import_layer(const Global& g, Args& a) {
  std::vector<std::string> pos = a.positionals(1, 2, "<DIGEST> [NAME]");
  std::string diff_id = oci_digest(pos[0], "<DIGEST>");
  std::optional<std::string> name;
  if (pos.size() == 2) {
    repo::check_ref_path(pos[1]);
    name = pos[1];
  }
  auto repo = repo::Repository::open(repo_path(g), g.open);
  repo->check_writable();
  // Already stored: stdin is not read (composefs-rs), only the name is given.
  std::optional<Digest> stream = repo->stream_object(oci::layer_stream_name(diff_id));
  if (!stream) {
    oci::LayerBlob blob{.compression = oci::Compression::kNone, .diff_id = diff_id};
    auto read = [](std::span<std::byte> b) { return read_some(STDIN_FILENO, b); };
    stream = oci::import_layer(*repo, blob, read, nullptr).stream;
  }
  if (name) {
    repo::replace_symlink(repo->fd(), "streams/refs/" + *name,
                          "streams/" + oci::layer_stream_name(diff_id));
  }
  std::cout << id_form(*stream) << "\n";
  return 0;
}

int cmd_oci_copy(const Global& g, Args& a) {
  std::optional<std::string> from = a.value("from");
  std::optional<std::string> name = a.value("name");
  bool zerocopy = a.flag("zerocopy");
  if (!from)
    throw UsageError("the following required arguments were not provided:\n  --from <FROM>");
  std::string image = a.positionals(1, 1, "<IMAGE>")[0];
  auto to = repo::Repository::open(repo_path(g), g.open);
  to->check_writable();
  std::unique_ptr<repo::Repository> source = with_context(
      "opening source repository " + *from, [&] { return repo::Repository::open(*from, g.open); });
  oci::CopyOptions o;
  o.zerocopy = zerocopy;
  o.tag = name;
  oci::CopyResult r =
      oci::copy_image(*to, *source, image.starts_with("@") ? image.substr(1) : image, o);
  std::cout << "Copied image " << image << " from " << *from << " to destination repo"
            << (name ? ", tagged as " + *name : "") << "\n"
            << "Manifest digest: " << r.manifest_digest << "\n"
            << "Manifest verity: " << to_hex(r.committed.manifest_stream) << "\n"
            << "Config digest:   " << r.config_digest << "\n"
            << "Config verity:   " << to_hex(r.committed.config_stream) << "\n";
  return 0;
}

}  // namespace cfs::cfsctl
