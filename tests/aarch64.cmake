# The aarch64 cross-build under qemu-user (tools/cross-aarch64.sh,
# docs/platforms.md), on x86-64 hosts: the kernels, base and model libraries
# built with gcc-aarch64-linux-gnu in build/aarch64, then a subset of their
# tests: test_kernels (scalar and neon levels), test_half, and the runtime
# against the float64 reference at the neon level (tiny and small presets)
# and the scalar level (tiny). The sanitizer build leaves it to `make test`.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64)$" AND NOT CMAKE_CROSSCOMPILING AND NOT ATTNMIX_SANITIZE
   AND NOT ATTNMIX_FUZZ)
  attnmix_script_test(aarch64_qemu ${CMAKE_SOURCE_DIR}/tools/cross-aarch64.sh ${CMAKE_BINARY_DIR}/aarch64 ${ATTNMIX_BIN}
    -j 2 -R "^(test_kernels|test_half|test_runtime_ref@neon|test_runtime_ref_small@neon|test_runtime_ref@scalar)$")
  set_tests_properties(aarch64_qemu PROPERTIES PROCESSORS 2)
endif()
