// The web UI's files (ui/, built by Vite), embedded in the forja binary by the build:
// ui/CMakeLists.txt runs the UI build and generates the table behind UiAssets(), whose
// bytes the assembler includes from the build's dist folder (.incbin), so no source
// holds them as literals. docs/ui.md tells how it is built.
#pragma once

#include <span>
#include <string_view>

namespace forja::api {

struct UiAsset {
  std::string_view path;          // "/index.html", "/assets/index-B0tsw1pG.js"
  std::string_view content_type;  // from the file name's extension
  std::string_view sha256;        // hex of the bytes: the strong ETag
  std::string_view data;
};

// Every file of the UI's dist folder, sorted by path; empty in a build with FORJA_UI=OFF.
std::span<const UiAsset> UiAssets();

}  // namespace forja::api
