# cmake -DCOMPILER=c++ -DFLAGS_FILE=f.rsp -DSOURCE=x.cpp [-DEXPECT=regex]
#       -P expect_compile_error.cmake
#
# Without EXPECT: SOURCE must compile. With it: SOURCE must not compile,
# and the first error the compiler reports must match EXPECT (a later
# match does not count: a user reads the first error).
execute_process(
  COMMAND ${COMPILER} @${FLAGS_FILE} -fsyntax-only ${SOURCE}
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE out)

if(EXPECT STREQUAL "")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${SOURCE} should compile, but:\n${out}")
  endif()
  message(STATUS "${SOURCE} compiles")
  return()
endif()

if(rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled; expected an error matching:\n  ${EXPECT}")
endif()
string(REGEX MATCH "error: [^\n]*" first_error "${out}")
if(first_error STREQUAL "")
  message(FATAL_ERROR "${SOURCE} failed without an error line (exit ${rc}):\n${out}")
endif()
if(NOT first_error MATCHES "${EXPECT}")
  message(FATAL_ERROR "${SOURCE}: the first error is not the expected one.\n"
                      "expected: ${EXPECT}\nfirst:    ${first_error}\nfull output:\n${out}")
endif()
message(STATUS "${SOURCE} is refused as expected: ${first_error}")
