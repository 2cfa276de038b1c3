# Cross-compile for AArch64; tests run under qemu-user.
#
# The io layer's libraries come from Debian's arm64 packages installed next
# to the native ones (dpkg multiarch: libssl-dev:arm64, libc-ares-dev:arm64),
# so they live in /usr/lib/aarch64-linux-gnu with their arch-specific headers
# in /usr/include/aarch64-linux-gnu; the cross toolchain's own libc is in
# /usr/aarch64-linux-gnu.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_ASM_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg-config must see the arm64 .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
# After the toolchain's own headers: arm64-specific ones (opensslconf.h),
# then the architecture-independent ones (openssl/*.h, ares.h).
set(CMAKE_C_STANDARD_INCLUDE_DIRECTORIES /usr/include/aarch64-linux-gnu /usr/include)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,/usr/lib/aarch64-linux-gnu")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-Wl,-rpath-link,/usr/lib/aarch64-linux-gnu")
# Run with the arm64 loader and libc that multiarch installed with those
# libraries (libc6:arm64), which find them on their own. Mixing the cross
# toolchain's loader (/usr/aarch64-linux-gnu) with multiarch libraries makes
# threaded programs hang under qemu.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;/)
