# ctest helper: runs COMMAND (a ;-list) that writes the JSON file FILE, then checks that it
# parses and holds each of KEYS (comma-separated; a/b reaches into objects, a/0 into arrays).
# Usage: cmake -DCOMMAND=... -DFILE=out.json -DKEYS=results/0/way,workers -P check-json.cmake
cmake_minimum_required(VERSION 3.25)
file(REMOVE ${FILE})
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the command exited with ${rc}")
endif()
file(READ ${FILE} json)
string(REPLACE "," ";" KEYS "${KEYS}")
foreach(key IN LISTS KEYS)
  string(REPLACE "/" ";" path "${key}")
  string(JSON value ERROR_VARIABLE error GET "${json}" ${path})
  if(error)
    message(FATAL_ERROR "${FILE}: no ${key}: ${error}")
  endif()
  message(STATUS "${key} = ${value}")
endforeach()
