# ctest helper: runs COMMAND (a ;-list) and passes only if it exits with EXPECT and says why
# on stderr. Usage: cmake -DCOMMAND=... -DEXPECT=2 -P expect-exit.cmake
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
if(NOT rc STREQUAL EXPECT)
  message(FATAL_ERROR "exit status ${rc}, expected ${EXPECT}; stderr: ${err}")
endif()
if(err STREQUAL "")
  message(FATAL_ERROR "exit status ${rc} but no message on stderr")
endif()
message(STATUS "exit ${rc}: ${err}")
