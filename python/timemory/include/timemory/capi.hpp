// C++ wrappers of timemory's C API (timemory/capi.h): scoped regions and contexts.
//
//     #include <timemory/capi.hpp>
//
//     void solve() {
//         timemory::scoped_region region{"solve"};       // popped at the end of the scope
//         auto ctx = timemory::context::capture();        // where solve() runs
//         std::thread worker([&ctx] {
//             timemory::scoped_context in{ctx};           // the worker nests beneath it
//             timemory::scoped_region step{"step"};
//         });
//         worker.join();
//     }
#ifndef TIMEMORY_CAPI_HPP
#define TIMEMORY_CAPI_HPP

#include <cstdint>

#include "timemory/capi.h"

namespace timemory {

// Whether the API is bound to a running timemory (see timemory_capi_import).
inline bool available() noexcept { return timemory_capi_available() != 0; }

// A region name hashed once (and registered): push/pop by id skip hashing the name. Make it
// after the API is bound (a handle made before is 0 and measures nothing).
class region_id {
public:
    explicit region_id(const char* name) noexcept : id_(timemory_region_id(name)) {}
    std::uint64_t value() const noexcept { return id_; }

private:
    std::uint64_t id_;
};

// A region from construction to the end of the scope, on the constructing thread.
class scoped_region {
public:
    explicit scoped_region(const char* name) noexcept : name_(name), id_(0) { timemory_push_region(name); }
    explicit scoped_region(const region_id& id) noexcept : name_(nullptr), id_(id.value()) {
        timemory_push_region_id(id_);
    }
    ~scoped_region() {
        if (name_) timemory_pop_region(name_);
        else timemory_pop_region_id(id_);
    }
    scoped_region(const scoped_region&)            = delete;
    scoped_region& operator=(const scoped_region&) = delete;

private:
    const char*   name_;
    std::uint64_t id_;
};

// A captured call path (timemory_context_capture), released when destroyed.
class context {
public:
    // The calling thread's call path.
    static context capture() noexcept { return context(timemory_context_capture()); }
    context(context&& other) noexcept : ctx_(other.ctx_) { other.ctx_ = nullptr; }
    context& operator=(context&& other) noexcept {
        if (this != &other) {
            timemory_context_release(ctx_);
            ctx_       = other.ctx_;
            other.ctx_ = nullptr;
        }
        return *this;
    }
    context(const context&)            = delete;
    context& operator=(const context&) = delete;
    ~context() { timemory_context_release(ctx_); }
    const timemory_context* get() const noexcept { return ctx_; }

private:
    explicit context(timemory_context* ctx) noexcept : ctx_(ctx) {}
    timemory_context* ctx_;
};

// Enters a captured context on this thread for the scope: its regions nest beneath it.
class scoped_context {
public:
    explicit scoped_context(const context& ctx) noexcept { timemory_context_enter(ctx.get()); }
    ~scoped_context() { timemory_context_leave(); }
    scoped_context(const scoped_context&)            = delete;
    scoped_context& operator=(const scoped_context&) = delete;
};

// timemory_record: `value` into the data tracker `name` beneath the current region.
inline void record(const char* name, double value) noexcept { timemory_record(name, value); }

}  // namespace timemory

#endif  // TIMEMORY_CAPI_HPP
