// Listing every file under a folder, with the stat forja needs, fast: readdir's
// d_type avoids a stat per folder and fstatat avoids resolving full paths.
#pragma once

#include <string>
#include <vector>

#include "forja/core/fs.h"
#include "forja/core/status.h"

namespace forja {

struct WalkEntry {
  std::string path;  // relative to the walked folder, '/'-separated
  FileStat stat;     // lstat; for a symlink, of the link itself
  bool symlink = false;
};

// Regular files and symlinks under `dir`, sorted by path. forja's own temp files
// (left by a killed command) are not listed; their paths go to `temps` if given.
// Other kinds (sockets, fifos, devices) are an error naming the path.
Result<std::vector<WalkEntry>> WalkTree(const std::string& dir,
                                        std::vector<std::string>* temps = nullptr);

}  // namespace forja
