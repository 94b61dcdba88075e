# ctest helper: echo_server piped into echo_client on loopback; both must end on their own
# with status 0, and every message must come back. SERVER_ARGS and CLIENT_ARGS are added to
# each command line (--tls, or --unix PATH).
# Usage: cmake -DSERVER=... -DCLIENT=... [-DSERVER_ARGS=...] [-DCLIENT_ARGS=...] -P check-echo.cmake
cmake_minimum_required(VERSION 3.25)
execute_process(
  COMMAND ${SERVER} --connections 50 --seconds 60 ${SERVER_ARGS}
  COMMAND ${CLIENT} --port - --clients 50 --messages 20 ${CLIENT_ARGS}
  RESULTS_VARIABLE codes OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 120)
message(STATUS "${out}${err}")
if(NOT codes STREQUAL "0;0")
  message(FATAL_ERROR "exit statuses ${codes} (server;client), expected 0;0")
endif()
if(NOT out MATCHES "every message echoed: yes \\(1000 of 1000\\)")
  message(FATAL_ERROR "not every message came back")
endif()
if(NOT err MATCHES "done: served 50 connections, 1000 lines")
  message(FATAL_ERROR "the server did not report 50 connections and 1000 lines")
endif()
