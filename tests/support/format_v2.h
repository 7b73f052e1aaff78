// Test support for format V2 (composefs-rs's legacy layout): a tree reduced to what a V2
// image keeps, so that what V2 gives back can be compared with what V0/V1 give back.
#pragma once

#include "tree/tree.h"

namespace cfs::test {

// Drops what V2 cannot keep: nanoseconds (it stores none) and a non-directory's own nlink (V2
// counts the names). With `drop_whiteouts`, also removes the whiteouts (char devices 0/0),
// which V2 stores as they are, so that overlayfs hides them where V0/V1 show them.
void normalize_for_format_v2(tree::Node* root, bool drop_whiteouts = false);

}  // namespace cfs::test
