# Run at build time (cmake -P): writes OUTPUT from cmake/version.hpp.in with PROJECT_VERSION and
# the checkout's `git describe --always --dirty`, or no commit when SOURCE_DIR is not a git
# checkout or git is missing. configure_file leaves OUTPUT untouched when nothing changed, so
# only a new commit or a change of dirtiness rebuilds what includes it.
set(RSEXEC_GIT_COMMIT "")
find_program(GIT_EXECUTABLE git)
if(GIT_EXECUTABLE AND EXISTS "${SOURCE_DIR}/.git")
  execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" describe --always --dirty
    OUTPUT_VARIABLE RSEXEC_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE git_result ERROR_QUIET)
  if(NOT git_result EQUAL 0)
    set(RSEXEC_GIT_COMMIT "")
  endif()
endif()
configure_file("${SOURCE_DIR}/cmake/version.hpp.in" "${OUTPUT}" @ONLY)
