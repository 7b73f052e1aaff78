#include "support/format_v2.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <vector>

namespace cfs::test {

void normalize_for_format_v2(tree::Node* root, bool drop_whiteouts) {
  auto whiteout = [](const tree::Node* n) {
    return !n->is_alias() && n->type() == S_IFCHR && n->rdev == 0;
  };
  std::vector<tree::Node*> nodes{root};
  std::map<const tree::Node*, std::uint32_t> names;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    tree::Node* n = nodes[i];
    n->mtime_nsec = 0;
    if (drop_whiteouts) std::erase_if(n->children, whiteout);
    if (n->is_alias()) ++names[n->resolve()];
    nodes.insert(nodes.end(), n->children.begin(), n->children.end());
  }
  for (tree::Node* n : nodes) {
    if (!n->is_alias() && !n->is_dir()) n->nlink = 1 + names[n];
  }
}

}  // namespace cfs::test
