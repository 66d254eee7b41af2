# The UI build the CMake build runs (ui/CMakeLists.txt): type-check, bundle into DIST,
# then embed DIST (embed.cmake). cmake -DUI=<ui/> -DDIST=<dir> -DOUT=<file.cc> -P build.cmake
cmake_minimum_required(VERSION 3.25)
set(bin "${UI}/node_modules/.bin")
if(NOT EXISTS "${bin}/vite" OR NOT EXISTS "${bin}/tsc")
  message(FATAL_ERROR "ui: ${UI}/node_modules is not installed: run scripts/setup "
                      "(or configure with -DFORJA_UI=OFF for a forja without its web UI)")
endif()
execute_process(COMMAND "${bin}/tsc" --noEmit -p "${UI}" WORKING_DIRECTORY "${UI}" COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND "${bin}/vite" build "${UI}" --outDir "${DIST}" --emptyOutDir --logLevel warn
                WORKING_DIRECTORY "${UI}" COMMAND_ERROR_IS_FATAL ANY)
include("${CMAKE_CURRENT_LIST_DIR}/embed.cmake")
