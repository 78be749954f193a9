# Reliability: the fuzz seed corpus replayed through the parsers (plain build,
# no libFuzzer), fault injection into the stages, memory limits.
set(REL_SRC ${CMAKE_CURRENT_SOURCE_DIR}/reliability)
set(REL_DIR ${CMAKE_CURRENT_BINARY_DIR}/reliability)
set(FUZZ_SRC ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)

# tests/fuzz/fuzz_NAME.c + replay_main.c -> fuzz-replay-NAME, ctest fuzz_replay_NAME.
# (In the ATTNMIX_FUZZ build the harnesses are libFuzzer programs instead.)
if(NOT ATTNMIX_FUZZ)
  file(GLOB REL_FUZZ_SOURCES CONFIGURE_DEPENDS ${FUZZ_SRC}/fuzz_*.c)
  foreach(src ${REL_FUZZ_SOURCES})
    get_filename_component(name ${src} NAME_WE)
    string(REGEX REPLACE "^fuzz_" "" short ${name})
    string(REPLACE "_" "-" exe_short ${short})
    add_executable(fuzz-replay-${exe_short} ${src} ${FUZZ_SRC}/replay_main.c)
    set_target_properties(fuzz-replay-${exe_short} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
    target_link_libraries(fuzz-replay-${exe_short} PRIVATE ${ATTNMIX_LIBRARIES})
    add_test(NAME fuzz_replay_${short} COMMAND fuzz-replay-${exe_short} ${FUZZ_SRC}/corpus/${name}
             WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
    # HDF5 1.10 leaks inside its object-header loader on corrupt files (see
    # tests/fuzz/lsan.supp); full unwinding lets the suppression see that frame.
    set_tests_properties(fuzz_replay_${short} PROPERTIES TIMEOUT 600 ENVIRONMENT
      "${ATTNMIX_TEST_ENV};LSAN_OPTIONS=suppressions=${FUZZ_SRC}/lsan.supp:print_suppressions=0;ASAN_OPTIONS=fast_unwind_on_malloc=0")
  endforeach()
endif()

# Fault injection and hostile inputs on the tiny synthetic checkpoint.
attnmix_script_test(reliability_inputs bash ${REL_SRC}/inputs_test.sh ${REL_DIR}/inputs)
attnmix_script_test(reliability_disk_full bash ${REL_SRC}/disk_full_test.sh ${REL_DIR}/disk_full)
attnmix_script_test(reliability_kill bash ${REL_SRC}/kill_test.sh ${REL_DIR}/kill)
attnmix_script_test(reliability_checkpoint bash ${REL_SRC}/checkpoint_test.sh ${REL_DIR}/checkpoint)
attnmix_script_test(reliability_generate_inputs bash ${REL_SRC}/generate_inputs_test.sh ${REL_DIR}/generate_inputs)
attnmix_script_test(reliability_memory bash ${REL_SRC}/memory_test.sh ${REL_DIR}/memory)

# Runs that never lie (docs/reliability.md): content stamps, data in scripts,
# non-finite values, the disk check.
attnmix_script_test(reliability_stamps bash ${REL_SRC}/stamps_test.sh ${REL_DIR}/stamps)
attnmix_script_test(reliability_script_data bash ${REL_SRC}/script_data_test.sh ${REL_DIR}/script_data)
attnmix_script_test(reliability_nonfinite bash ${REL_SRC}/nonfinite_test.sh ${REL_DIR}/nonfinite)
attnmix_script_test(reliability_disk_check bash ${REL_SRC}/disk_check_test.sh ${REL_DIR}/disk_check)
attnmix_script_test(reliability_liveness bash ${REL_SRC}/liveness_test.sh ${REL_DIR}/liveness)
attnmix_script_test(reliability_config_edges bash ${REL_SRC}/config_edges_test.sh ${REL_DIR}/config_edges)
