// Stand-in for std::ios_base_library_init() (GLIBCXX_3.4.32, GCC 13+), for
// loading GCC-13-built libLibTorchSharp.so (TorchSharp 0.107.0) against an older
// libstdc++ (Debian 12: GCC 12, GLIBCXX_3.4.30).
//
// In GCC 13, <iostream> no longer puts a static std::ios_base::Init in every
// translation unit; it references std::ios_base_library_init() instead, and
// libstdc++ 13 constructs the standard streams itself. An older libstdc++ only
// constructs them through ios_base::Init objects, so this shim holds one. It is a
// DT_NEEDED dependency of the patched library, so its constructor runs first.
//
// Built by patch-libtorchsharp.sh:
//   g++ -shared -fPIC -O2 -Wl,-soname,libtorchsharp_ios_shim.so -o libtorchsharp_ios_shim.so ios_base_shim.cpp
#include <ios>

static std::ios_base::Init tsshim_ios_init;

// Exported as _ZSt21ios_base_library_initv (std::ios_base_library_init()) via an
// asm label, so nothing has to be declared in namespace std.
extern "C" __attribute__((visibility("default"), used))
void tsshim_ios_base_library_init() __asm__("_ZSt21ios_base_library_initv");

extern "C" void tsshim_ios_base_library_init()
{
    static std::ios_base::Init init;
}
