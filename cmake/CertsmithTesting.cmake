include(GoogleTest)

# certsmith_unit_test(NAME SOURCES a.cc b.cc LIBS certsmith::acme ...)
# A GoogleTest executable whose cases each become a ctest test labelled "unit".
function(certsmith_unit_test name)
  cmake_parse_arguments(ARG "SLOW_UNWIND" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  certsmith_target_warnings(${name})
  # GTEST_SKIP() exits 0: the regex makes ctest report it as skipped (and scripts/ctest-summary
  # list it) rather than passed.
  # SLOW_UNWIND: under ASan, allocations are traced with the slow unwinder, for binaries whose
  # tests reach cpprestsdk code that scripts/sanitizer/lsan.supp names (libcpprest has no frame
  # pointers, so the fast unwinder stops at its first frame).
  set(env_properties)
  if(ARG_SLOW_UNWIND AND CERTSMITH_SANITIZE)
    set(env_properties ENVIRONMENT_MODIFICATION "ASAN_OPTIONS=string_append::fast_unwind_on_malloc=0")
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS unit SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]"
                       ${env_properties} DISCOVERY_TIMEOUT 60)
endfunction()

# certsmith_script_test(NAME LABEL integration COMMAND cmd args... [TIMEOUT s] [RESOURCE_LOCK x])
# A test run by a script (integration and e2e tiers), with the build tree's binary in its env.
function(certsmith_script_test name)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "COMMAND;RESOURCE_LOCK" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_test(NAME ${name} COMMAND ${ARG_COMMAND})
  set_tests_properties(${name} PROPERTIES
    LABELS "${ARG_LABEL}"
    TIMEOUT ${ARG_TIMEOUT}
    SKIP_RETURN_CODE 77
    ENVIRONMENT "CERTSMITH_BIN=$<TARGET_FILE:certsmith>;CERTSMITH_SOURCE_DIR=${PROJECT_SOURCE_DIR};CERTSMITH_BUILD_DIR=${PROJECT_BINARY_DIR}")
  # Under ASan, the slow unwinder: script tests run certsmith processes that make TLS connections
  # through cpprestsdk, whose leaks (scripts/sanitizer/lsan.supp names its function) are
  # allocated in libcrypto, which has no frame pointers, so only the slow unwinder reaches the
  # frame the suppression names (a controller or solver started in the background reports to a
  # file, which fails the stage).
  if(CERTSMITH_SANITIZE)
    set_tests_properties(${name} PROPERTIES
      ENVIRONMENT_MODIFICATION "ASAN_OPTIONS=string_append::fast_unwind_on_malloc=0")
  endif()
  if(ARG_RESOURCE_LOCK)
    set_tests_properties(${name} PROPERTIES RESOURCE_LOCK "${ARG_RESOURCE_LOCK}")
  endif()
endfunction()

