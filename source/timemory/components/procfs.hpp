#pragma once
// /proc and /sys readers (Linux). Memory values are bytes, io rates bytes/sec.
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "timemory/components/event_reads.hpp"
#include "timemory/components/timing.hpp"

namespace tim::readers {

namespace detail {

enum ProcFile { statm, io, n_proc_files };

inline constexpr const char* proc_paths[n_proc_files] = {"/proc/self/statm", "/proc/self/io"};
inline std::atomic<int>      proc_fds[n_proc_files]   = {-1, -1};
inline std::atomic<int>      proc_errs[n_proc_files]  = {0, 0};  // errno of the failed open()

// /proc/self is resolved to the pid at open(), so a forked child must reopen
// or it would keep reading its parent's numbers.
inline void reopen_proc_files() {
    for (int i = 0; i < n_proc_files; ++i) {
        const int fd  = ::open(proc_paths[i], O_RDONLY | O_CLOEXEC);
        proc_errs[i]  = fd < 0 ? errno : 0;
        const int old = proc_fds[i].exchange(fd);
        if (old >= 0) ::close(old);
    }
}

inline int proc_fd(ProcFile f) {
    static const bool opened = [] {
        reopen_proc_files();
        pthread_atfork(nullptr, nullptr, reopen_proc_files);
        return true;
    }();
    (void)opened;
    return proc_fds[f].load(std::memory_order_relaxed);
}

// Whole file into buf (NUL-terminated); false when unreadable.
template <std::size_t N>
inline bool read_proc(ProcFile f, char (&buf)[N]) {
    const int     fd   = proc_fd(f);
    const ssize_t n    = fd < 0 ? -1 : ::pread(fd, buf, N - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    return n > 0;
}

// Value of the "key: value" line in buf, 0 if absent.
inline double field_value(const char* buf, const char* key) {
    const std::size_t len = std::strlen(key);
    for (const char* line = buf; line;) {
        if (std::strncmp(line, key, len) == 0 && line[len] == ':')
            return static_cast<double>(std::strtoull(line + len + 1, nullptr, 10));
        if ((line = std::strchr(line, '\n'))) ++line;
    }
    return 0.0;
}

inline double read_uint_at(int dir, const char* path) {
    const int fd = ::openat(dir, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0.0;
    char          buf[32];
    const ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
    ::close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return static_cast<double>(std::strtoull(buf, nullptr, 10));
}

}  // namespace detail

// The event's /proc/self/statm: fields 0 (size) and 1 (resident), pages -> bytes; zeros when
// unreadable. One read for page_rss and virtual_memory together.
inline const double* event_statm(EventReads& ev) {
    if (!ev.has(src_statm)) {
        static const double page_size = static_cast<double>(sysconf(_SC_PAGESIZE));
        char                buf[128];
        ev.statm[0] = ev.statm[1] = 0.0;
        count_kernel_read(src_statm);
        if (detail::read_proc(detail::statm, buf)) {
            char* p = buf;
            for (double& v : ev.statm) v = static_cast<double>(std::strtoull(p, &p, 10)) * page_size;
        }
        ev.set(src_statm);
    }
    return ev.statm;
}

template <int Field>
inline void read_statm(EventReads& ev, double* out) {
    out[0] = event_statm(ev)[Field];
}
inline void read_page_rss(EventReads& ev, double* out) { read_statm<1>(ev, out); }
inline void read_virtual_memory(EventReads& ev, double* out) { read_statm<0>(ev, out); }

// 0 if /proc/self/io is readable, else the errno that prevents it.
inline int proc_io_error() {
    if (detail::proc_fd(detail::io) < 0) return detail::proc_errs[detail::io];
    char buf[512];
    errno = 0;
    if (detail::read_proc(detail::io, buf)) return 0;
    return errno != 0 ? errno : EIO;
}

// raw = (bytes counter, wall ns); display = (bytes, bytes/sec).
inline constexpr const char* io_fields[] = {"rchar", "wchar", "read_bytes", "write_bytes"};

// The event's /proc/self/io (its four fields, zeros when unreadable) and the clock read with it.
inline const double* event_io(EventReads& ev) {
    if (!ev.has(src_proc_io)) {
        char buf[512];
        count_kernel_read(src_proc_io);
        const bool ok = detail::read_proc(detail::io, buf);
        for (int i = 0; i < 4; ++i) ev.io[i] = ok ? detail::field_value(buf, io_fields[i]) : 0.0;
        ev.io_wall_ns = clock_ns(CLOCK_MONOTONIC);
        ev.set(src_proc_io);
    }
    return ev.io;
}

template <int Field>
inline void read_io(EventReads& ev, double* out) {
    out[0] = event_io(ev)[Field];
    out[1] = ev.io_wall_ns;
}

inline void display_io_rate(const double* raw, double* out) {
    out[0] = raw[0];
    out[1] = raw[1] != 0.0 ? raw[0] * 1.0e9 / raw[1] : 0.0;
}

// Eight counters summed over every interface but loopback. Directory entries
// are read with getdents64 into a stack buffer to keep the heap out of the read.
inline constexpr const char* net_fields[8] = {"rx_bytes", "rx_packets", "rx_errors", "rx_dropped",
                                              "tx_bytes", "tx_packets", "tx_errors", "tx_dropped"};

inline void read_network(double* out) {
    for (int i = 0; i < 8; ++i) out[i] = 0.0;
    const int dir = ::open("/sys/class/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return;
    alignas(dirent64) char buf[4096];
    for (ssize_t n; (n = getdents64(dir, buf, sizeof(buf))) > 0;) {
        for (ssize_t off = 0; off < n;) {
            const auto* d = reinterpret_cast<const dirent64*>(buf + off);
            off += d->d_reclen;
            if (d->d_name[0] == '.' || std::strcmp(d->d_name, "lo") == 0) continue;
            char path[sizeof(d->d_name) + 32];
            for (int i = 0; i < 8; ++i) {
                std::snprintf(path, sizeof(path), "%s/statistics/%s", d->d_name, net_fields[i]);
                out[i] += detail::read_uint_at(dir, path);
            }
        }
    }
    ::close(dir);
}

}  // namespace tim::readers
