#include "writer/writer.h"

#include "writer/plan.h"

namespace cfs::writer {

void write(const tree::Tree& tree, const Options& options, const ByteSink& sink) {
  Plan plan = prepare(tree, options);
  choose_shared_xattrs(plan);
  lay_out(plan);
  emit(plan, sink);
}

std::vector<std::byte> write_to_vector(const tree::Tree& tree, const Options& options) {
  std::vector<std::byte> out;
  write(tree, options, [&](std::span<const std::byte> chunk) {
    out.insert(out.end(), chunk.begin(), chunk.end());
  });
  return out;
}

}  // namespace cfs::writer
