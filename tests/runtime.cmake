# Runtime against the float64 numpy reference on the `small` preset too
# (test_runtime_ref runs `tiny` when registered from its source file).
attnmix_script_test(test_runtime_ref_small ${CMAKE_BINARY_DIR}/tests/test_runtime_ref --preset small)
