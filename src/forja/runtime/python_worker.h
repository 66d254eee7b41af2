// The program every python worker runs (python -B -c kPythonWorkerProgram ...).
// Its argv: worker number, package dir, module, function, then a name and a
// datatype ("" = as returned) per signature output. It speaks python_frame.h on
// fd 3 and prints (its own and the user's stdout and stderr) to fd 2, each line
// prefixed "[python worker N] ".
#pragma once

namespace forja::runtime {

extern const char* const kPythonWorkerProgram;

}  // namespace forja::runtime
