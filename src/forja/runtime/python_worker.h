// The program every python worker runs (python -B -c kPythonWorkerProgram ...).
// Its argv: worker number, package dir, module, function, then a name and a
// datatype ("" = as returned) per signature output. It speaks python_frame.h on
// fd 3; fds 1 and 2 are a pipe forja copies to its stderr (python_output.h).
#pragma once

namespace forja::runtime {

extern const char* const kPythonWorkerProgram;

}  // namespace forja::runtime
