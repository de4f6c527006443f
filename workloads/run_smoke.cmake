# Runs one workload under qemu-aarch64 in a fresh working directory; fails unless it exits
# with status 0 and leaves the directory empty.
#   cmake -DQEMU=... -DPROG=... [-DQEMU_OPTS=a|b] [-DARGS=a|b] -DWORKDIR=... -P run_smoke.cmake
# (lists are '|'-separated so they survive the command line).
foreach(v QEMU PROG WORKDIR)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "run_smoke.cmake: ${v} not set")
  endif()
endforeach()
string(REPLACE "|" ";" opts "${QEMU_OPTS}")
string(REPLACE "|" ";" args "${ARGS}")

file(REMOVE_RECURSE ${WORKDIR})
file(MAKE_DIRECTORY ${WORKDIR})
execute_process(COMMAND ${QEMU} ${opts} ${PROG} ${args}
                WORKING_DIRECTORY ${WORKDIR}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}")
if(NOT rc STREQUAL "0")
  message(FATAL_ERROR "${PROG} exited with '${rc}'\n${err}")
endif()
file(GLOB left ${WORKDIR}/*)
if(left)
  message(FATAL_ERROR "${PROG} left files behind: ${left}")
endif()
file(REMOVE_RECURSE ${WORKDIR})
