# Helpers shared by every layer's CMakeLists.txt.

# quorum_add_layer(NAME SOURCES a.cpp b.cpp DEPS quorum_core ...)
# Declares the static library quorum_NAME; headers are included as "NAME/file.h" from src/.
function(quorum_add_layer name)
  cmake_parse_arguments(L "" "" "SOURCES;DEPS" ${ARGN})
  add_library(quorum_${name} STATIC ${L_SOURCES})
  target_include_directories(quorum_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(quorum_${name} PUBLIC ${L_DEPS})
  set_target_properties(quorum_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

# quorum_add_test(NAME SOURCES t.cpp LIBS quorum_io LABELS unit [TIMEOUT s])
# One GoogleTest binary; each TEST becomes a ctest test carrying LABELS.
function(quorum_add_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} quorum_testing GTest::gtest_main GTest::gmock)
  gtest_discover_tests(${name} PROPERTIES TIMEOUT ${T_TIMEOUT} DISCOVERY_TIMEOUT 60)
  # Labels are set by a second ctest include file, run after discovery's: gtest_discover_tests
  # flattens its PROPERTIES into one list, so a label list "unit;slow" would lose every label
  # after the first (and `ctest -LE slow` would run slow tests).
  set(label_file "${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake")
  file(WRITE "${label_file}"
    "foreach(t IN LISTS ${name}_TESTS)\n"
    "  set_tests_properties(\"\${t}\" PROPERTIES LABELS \"${T_LABELS}\")\n"
    "endforeach()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${label_file}")
endfunction()
