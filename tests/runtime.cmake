# Runtime against the float64 numpy reference on the `small` preset too
# (test_runtime_ref runs `tiny` when registered from its source file).
attnmix_script_test(test_runtime_ref_small test_runtime_ref --preset small)

# The kernel tests check every level in one process (test_kernels); the
# runtime tests run again at each level with AM_KERNELS=<level>, in a working
# directory of their own (they write their checkpoints and references there).
# A level this CPU or build lacks is skipped (exit 77): x86-64 offers scalar,
# avx2, avx512; aarch64 scalar and neon (docs/platforms.md).
foreach(level scalar avx2 avx512 neon)
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/level-${level})
  file(MAKE_DIRECTORY ${dir})
  foreach(t test_runtime test_runtime_ref test_runtime_ref_small)
    set(exe ${t})
    set(args)
    if(t STREQUAL "test_runtime_ref_small")
      set(exe test_runtime_ref)
      set(args --preset small)
    endif()
    add_test(NAME ${t}@${level} COMMAND ${exe} ${args} WORKING_DIRECTORY ${dir})
    set_tests_properties(${t}@${level} PROPERTIES ENVIRONMENT "${ATTNMIX_TEST_ENV};AM_KERNELS=${level}"
      SKIP_RETURN_CODE 77 TIMEOUT 900)
  endforeach()
endforeach()
