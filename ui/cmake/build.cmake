# The UI build the CMake build runs (ui/CMakeLists.txt): type-check, bundle into DIST,
# then embed DIST (embed.cmake). cmake -DUI=<ui/> -DDIST=<dir> -DOUT=<file.cc> -P build.cmake
cmake_minimum_required(VERSION 3.25)
set(bin "${UI}/node_modules/.bin")
if(NOT EXISTS "${bin}/vite" OR NOT EXISTS "${bin}/tsc")
  message(FATAL_ERROR "ui: ${UI}/node_modules is not installed: run scripts/setup "
                      "(or configure with -DFORJA_UI=OFF for a forja without its web UI)")
endif()
# Vite 8 needs Node.js 20.19 or later (Debian 12's own nodejs is 18): say so in one line
# rather than let it fail deep inside the bundler.
execute_process(COMMAND node --version OUTPUT_VARIABLE node_version OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE node_rc)
string(REGEX REPLACE "^v" "" node_version "${node_version}")
if(NOT node_rc EQUAL 0 OR node_version VERSION_LESS 20.19)
  message(FATAL_ERROR "ui: the UI build needs Node.js 20.19 or later on PATH, found '${node_version}' "
                      "(or configure with -DFORJA_UI=OFF for a forja without its web UI)")
endif()
execute_process(COMMAND "${bin}/tsc" --noEmit -p "${UI}" WORKING_DIRECTORY "${UI}" COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND "${bin}/vite" build "${UI}" --outDir "${DIST}" --emptyOutDir --logLevel warn
                WORKING_DIRECTORY "${UI}" COMMAND_ERROR_IS_FATAL ANY)
include("${CMAKE_CURRENT_LIST_DIR}/embed.cmake")
