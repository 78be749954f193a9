# The CUDA backend's test (tests/test_cuda.c) exits 77 without a GPU or
# without a CUDA build: ctest lists it as skipped, with the reason in its output.
set_tests_properties(test_cuda PROPERTIES SKIP_RETURN_CODE 77)
