# Cross-compile for AArch64; tests run under qemu-user.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_ASM_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# The C library must come from the same place as the dynamic loader, which
# -L takes from the cross toolchain's sysroot. Once Debian's multiarch
# libc6:arm64 is installed too, the loader would otherwise find that newer
# libc.so.6 in /lib/aarch64-linux-gnu first, and the mismatched pair hangs
# threaded programs under qemu. Multiarch arm64 libraries (OpenSSL, c-ares)
# are still found after the sysroot's.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu
    -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib:/usr/lib/aarch64-linux-gnu)
