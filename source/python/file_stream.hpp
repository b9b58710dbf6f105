#pragma once
// A document streamed into a file natively: the path as the file system takes it, and the
// atomic write (a temporary created exclusively in the folder, fsynced, renamed) fed in
// chunks by a writer. Shared by the writers' bindings (output_bindings.cpp,
// timeline_bindings.cpp).
#include <string>

#include <pybind11/pybind11.h>

#include "timemory/output/writers.hpp"

namespace timemory_python {

// A file path as the file system takes it: str (encoded as os.fsencode does, so a name that
// is not valid UTF-8, decoded with surrogateescape, comes back as its bytes), bytes, or a
// path-like object.
inline std::string fs_path(const pybind11::handle& path) {
    auto p = pybind11::reinterpret_steal<pybind11::object>(PyOS_FSPath(path.ptr()));
    if (!p) throw pybind11::error_already_set();
    if (PyUnicode_Check(p.ptr())) p = pybind11::reinterpret_steal<pybind11::object>(PyUnicode_EncodeFSDefault(p.ptr()));
    if (!p) throw pybind11::error_already_set();
    return std::string(PyBytes_AS_STRING(p.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(p.ptr())));
}

// Streams one writer's text into the file `path` (bytes: the file system's own encoding,
// so any name works), between `head` and `tail`: through a temporary created exclusively
// in the target folder, fsynced and renamed, in chunks (the document is never held whole),
// without the GIL. A failure raises ValueError naming the path (OSError in Python).
template <typename F>
void stream_to(const std::string& path, const std::string& head, const std::string& tail, F&& write) {
    std::string err;
    bool        ok = false;
    {
        pybind11::gil_scoped_release nogil;
        tim::AtomicFile              file;
        if (file.open(path, &err)) {
            tim::Out out;
            out.stream([&](std::string_view chunk) { file.write(chunk); });
            out.buf = head;
            write(out);
            out.buf += tail;
            out.flush();
            ok = file.commit(&err);
        }
    }
    if (!ok) throw pybind11::value_error(err);
}

}  // namespace timemory_python
