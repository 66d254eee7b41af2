// A fast path for the YAML that config files are made of: block mappings and
// sequences, plain and quoted scalars, one-line flow sequences, comments.
//
// ParseYamlFast gives exactly what ParseYaml (node.h, yaml-cpp) gives —
// values, types and origins — or nothing when the text uses anything outside
// that subset (anchors, tags, block scalars, flow mappings, multi-line
// scalars, tabs, odd indentation, errors ...); the caller then uses ParseYaml,
// which also produces the error messages. Composition parses every config file
// of a tree each time, and yaml-cpp is most of that time.
//
// tests/config/yaml_fast_test.cc checks the two parsers against each
// other on every config file of the test trees and on generated documents.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "forja/config/node.h"

namespace forja::config {

std::optional<Node> ParseYamlFast(std::string_view text, const std::string& name);

// ParseYamlFast, else ParseYaml.
Result<Node> ParseConfigYaml(std::string_view text, const std::string& name);

}  // namespace forja::config
