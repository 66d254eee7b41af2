# The web UI (docs/ui.md): TypeScript built by Vite into <build>/ui/dist, then embedded in
# the forja binary through one generated source, FORJA_UI_ASSETS_CC, that api's library
# compiles (its bytes come in through the assembler's .incbin; ui/cmake/embed.cmake).
# Included from src/forja/api/CMakeLists.txt, because a custom command's output is a
# source only for targets of the folder that defines it. The UI build reruns only when a
# source under ui/, its config or its lockfile changes. It needs ui/node_modules, which
# scripts/setup installs with `npm ci`; after that it runs offline.
option(FORJA_UI "Build the web UI and embed it in forja (needs ui/node_modules: scripts/setup)" ON)

set(ui_root ${PROJECT_SOURCE_DIR}/ui)
set(ui_assets_cc ${CMAKE_BINARY_DIR}/ui/ui_assets.cc)
set(ui_dist ${CMAKE_BINARY_DIR}/ui/dist)
set(FORJA_UI_ASSETS_CC ${ui_assets_cc})

if(FORJA_UI)
  file(GLOB_RECURSE ui_sources CONFIGURE_DEPENDS
       ${ui_root}/src/*
       ${ui_root}/public/*)
  add_custom_command(
    OUTPUT ${ui_assets_cc}
    BYPRODUCTS ${ui_dist}/index.html
    COMMAND ${CMAKE_COMMAND} -DUI=${ui_root} -DDIST=${ui_dist} -DOUT=${ui_assets_cc}
            -P ${ui_root}/cmake/build.cmake
    DEPENDS ${ui_sources}
            ${ui_root}/index.html
            ${ui_root}/package.json
            ${ui_root}/package-lock.json
            ${ui_root}/tsconfig.json
            ${ui_root}/vite.config.ts
            ${ui_root}/cmake/build.cmake
            ${ui_root}/cmake/embed.cmake
    WORKING_DIRECTORY ${ui_root}
    COMMENT "Building the web UI (tsc, vite) and embedding it"
    VERBATIM)
else()
  add_custom_command(
    OUTPUT ${ui_assets_cc}
    COMMAND ${CMAKE_COMMAND} -DOUT=${ui_assets_cc} -P ${ui_root}/cmake/embed.cmake
    DEPENDS ${ui_root}/cmake/embed.cmake
    COMMENT "Embedding no web UI (FORJA_UI=OFF)"
    VERBATIM)
endif()
