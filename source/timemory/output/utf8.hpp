#pragma once
// UTF-8 well-formedness, for the writers that escape text (JSON, callgrind, names read from
// Python objects).
#include <cstddef>
#include <string_view>

namespace tim {

// The length of the well-formed UTF-8 sequence that starts at s[i] (a lead byte >= 0x80): 2 to
// 4, or 0 when it is not one (a stray or truncated byte, an overlong form, a surrogate, a code
// point past U+10FFFF). Every writer that escapes text uses it.
inline std::size_t utf8_sequence_at(std::string_view s, std::size_t i) {
    const auto  c  = static_cast<unsigned char>(s[i]);
    std::size_t n  = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    bool        ok = n > 0 && c <= 0xf4 && i + n <= s.size();
    for (std::size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    if (ok && n >= 3) {
        const auto c1 = static_cast<unsigned char>(s[i + 1]);
        ok            = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0) && !(c == 0xf0 && c1 < 0x90) &&
                        !(c == 0xf4 && c1 >= 0x90);
    }
    return ok ? n : 0;
}

}  // namespace tim
