# CMake toolchain of the aarch64 cross-build (tools/cross-aarch64.sh): Debian's
# gcc-aarch64-linux-gnu, arm64 libraries from multiarch packages
# (/usr/lib/aarch64-linux-gnu), tests run under qemu-user (docs/platforms.md).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Libraries and headers of the target only; programs (pkg-config, python) of the host.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# ctest runs the test programs through qemu-user; the arm64 C library comes
# from /usr/aarch64-linux-gnu, the multiarch libraries from their usual place.
# OpenMP runs on one thread there: under qemu-user 7.2 (Debian 12) on recent
# kernels a guest that starts a thread hangs (seen with a bare pthread_create).
set(CMAKE_CROSSCOMPILING_EMULATOR env;OMP_NUM_THREADS=1;qemu-aarch64;-L;/usr/aarch64-linux-gnu)
