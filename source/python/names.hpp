#pragma once
// The UTF-8 text of the names Python hands the recorders (file names, function names, keys,
// labels). A str with no UTF-8 form holds lone surrogates: a file or function name whose bytes
// were not valid UTF-8 and were decoded with surrogateescape (what Python does for file names).
// Such a name is recorded escaped, its original bytes with each one that is not well-formed
// UTF-8 written as "\xNN", so the label stays readable and every output stays valid UTF-8.
#include <Python.h>

#include <string>
#include <string_view>

#include "timemory/output/utf8.hpp"

namespace timemory_python {

// `bytes` with every byte that is not part of a well-formed UTF-8 sequence written as "\xNN".
inline std::string escape_invalid_utf8(std::string_view bytes) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string           out;
    out.reserve(bytes.size() + 8);
    for (std::size_t i = 0; i < bytes.size();) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        // no overlongs, surrogates or code points past U+10FFFF
        const std::size_t n = tim::utf8_sequence_at(bytes, i);
        if (n > 0) {
            out.append(bytes.data() + i, n);
            i += n;
        } else {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xf];
            ++i;
        }
    }
    return out;
}

// The UTF-8 text of the str `s`: a view of Python's cached UTF-8 copy, or, for a str that has
// none, its escaped form (above) kept in `scratch`; other lone surrogates (not from
// surrogateescape) come out as "\udNNN". Never fails and leaves no exception set; an empty
// view for an object that is not a str.
inline std::string_view utf8_name(PyObject* s, std::string& scratch) {
    if (!s || !PyUnicode_Check(s)) return {};
    Py_ssize_t  n    = 0;
    const char* utf8 = PyUnicode_AsUTF8AndSize(s, &n);
    if (utf8) return {utf8, static_cast<std::size_t>(n)};
    PyErr_Clear();
    PyObject* b = PyUnicode_AsEncodedString(s, "utf-8", "surrogateescape");
    if (!b) {
        PyErr_Clear();
        b = PyUnicode_AsEncodedString(s, "utf-8", "backslashreplace");
    }
    if (!b) {
        PyErr_Clear();
        scratch = "<unencodable name>";
        return scratch;
    }
    scratch = escape_invalid_utf8({PyBytes_AS_STRING(b), static_cast<std::size_t>(PyBytes_GET_SIZE(b))});
    Py_DECREF(b);
    return scratch;
}

// utf8_name as a std::string.
inline std::string utf8_string(PyObject* s) {
    std::string scratch;
    auto        view = utf8_name(s, scratch);
    return view.data() == scratch.data() ? scratch : std::string(view);
}

}  // namespace timemory_python
