# Writes the generated version header with the source tree's git revision. Run at every build
# (target settle_version), not only when CMake configures: every output file records the revision
# it was made by, and a revision frozen at configure time would name an older commit than the
# binary's. A tree with uncommitted changes to tracked files is marked "-modified", since its
# revision alone would not reproduce the binary. configure_file rewrites the header only when
# its text changes, so an unchanged revision recompiles nothing.
# Inputs: SOURCE_DIR, INPUT (version.hpp.in), OUTPUT, PROJECT_VERSION.
execute_process(COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY ${SOURCE_DIR} OUTPUT_VARIABLE SETTLE_GIT_REVISION
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rev_status)
if(NOT rev_status EQUAL 0 OR NOT SETTLE_GIT_REVISION)
  set(SETTLE_GIT_REVISION "unknown")
else()
  execute_process(COMMAND git status --porcelain --untracked-files=no
    WORKING_DIRECTORY ${SOURCE_DIR} OUTPUT_VARIABLE local_changes
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(local_changes)
    string(APPEND SETTLE_GIT_REVISION "-modified")
  endif()
endif()
configure_file(${INPUT} ${OUTPUT} @ONLY)
