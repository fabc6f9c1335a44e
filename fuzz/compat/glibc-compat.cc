// Definitions the Linux x64 prebuild of @jazzer.js/fuzzer 4.0.0 takes from glibc 2.38 and
// libstdc++ 13 (GCC 13), for systems with older ones (Debian 12: glibc 2.36, GCC 12). Loaded
// with LD_PRELOAD by fuzz/run.js only when the prebuild does not load as shipped (docs/fuzzing.md).
#include <cstdlib>
#include <ios>

// C23 strtol/strtoul also read a 0b prefix; libFuzzer only parses decimal flags with them.
extern "C" long __isoc23_strtol(const char *s, char **end, int base) { return std::strtol(s, end, base); }
extern "C" unsigned long __isoc23_strtoul(const char *s, char **end, int base) { return std::strtoul(s, end, base); }

// GCC 13's <iostream> references this instead of a static ios_base::Init per file.
namespace std {
void ios_base_library_init() { static ios_base::Init init; }
}
