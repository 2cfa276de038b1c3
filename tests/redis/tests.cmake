# Included by tests/CMakeLists.txt after the redis layer's tests are
# registered (same directory scope, so their properties can be set here).
#
# The tests talk to a real redis-server: a CTest fixture starts a private
# one (127.0.0.1, a free port, a data directory in the build tree, nothing
# persisted) before them and stops it after (tests/redis/redis-server.sh).
# Without redis-server installed they exit 77 and CTest reports them
# skipped.
#
# fuzz_resp_hiredis: the differential fuzz driver against hiredis's reader
# (libhiredis-dev), when hiredis is found. With -DCIO_FUZZ=ON and clang, the
# same source also builds fuzz_resp_libfuzzer, a coverage-guided libFuzzer
# target (run it by hand: build/<dir>/tests/fuzz_resp_libfuzzer CORPUS_DIR).
set(CIO_REDIS_TEST_DIR ${CMAKE_CURRENT_BINARY_DIR}/redis-server)
set(CIO_REDIS_SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/redis/redis-server.sh)
add_test(NAME redis/server_start COMMAND sh ${CIO_REDIS_SCRIPT} start ${CIO_REDIS_TEST_DIR})
add_test(NAME redis/server_stop COMMAND sh ${CIO_REDIS_SCRIPT} stop ${CIO_REDIS_TEST_DIR})
set_tests_properties(redis/server_start PROPERTIES FIXTURES_SETUP redis_server
  LABELS "redis;memcheck" TIMEOUT 60)
set_tests_properties(redis/server_stop PROPERTIES FIXTURES_CLEANUP redis_server
  LABELS "redis;memcheck" TIMEOUT 60)

file(GLOB CIO_REDIS_SERVER_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/redis/test_*.c)
foreach(src ${CIO_REDIS_SERVER_TESTS})
  get_filename_component(name ${src} NAME_WE)
  foreach(t redis/${name} valgrind/${name})
    if(TEST ${t})
      set_tests_properties(${t} PROPERTIES FIXTURES_REQUIRED redis_server
        ENVIRONMENT "CIO_TEST_REDIS_DIR=${CIO_REDIS_TEST_DIR}" SKIP_RETURN_CODE 77)
    endif()
  endforeach()
endforeach()

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(HIREDIS QUIET IMPORTED_TARGET hiredis)
endif()
if(HIREDIS_FOUND)
  add_executable(fuzz_resp_hiredis redis/fuzz_resp.c)
  target_link_libraries(fuzz_resp_hiredis PRIVATE cio_redis_static cio_options PkgConfig::HIREDIS)
  add_test(NAME redis/fuzz_resp_hiredis COMMAND fuzz_resp_hiredis)
  set_tests_properties(redis/fuzz_resp_hiredis PROPERTIES LABELS "redis" TIMEOUT ${CIO_TEST_TIMEOUT})
  option(CIO_FUZZ "Build fuzz_resp_libfuzzer (clang's libFuzzer)" OFF)
  if(CIO_FUZZ)
    if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
      message(FATAL_ERROR "CIO_FUZZ=ON needs clang (CC=clang)")
    endif()
    add_executable(fuzz_resp_libfuzzer redis/fuzz_resp.c)
    target_compile_definitions(fuzz_resp_libfuzzer PRIVATE CIO_LIBFUZZER)
    target_compile_options(fuzz_resp_libfuzzer PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(fuzz_resp_libfuzzer PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(fuzz_resp_libfuzzer PRIVATE cio_redis_static cio_options
      PkgConfig::HIREDIS)
  endif()
else()
  message(STATUS "cio: hiredis not found, the RESP differential fuzz test is skipped "
                 "(Debian: libhiredis-dev)")
endif()
