#pragma once
// The native side of the one component resolver: names, enum values, classes and
// comma-separated strings become enum indices here (timemory._components.resolve wraps
// it, and markers resolve their list once at creation). The native hooks are handed the
// indices Python resolved, and only check them (indices_from_ints).
#include <Python.h>

#include <string>
#include <vector>

namespace timemory_python {

// Component indices of a marker: inline for the common short lists, so
// creating a marker does not allocate.
class IndexList {
public:
    void push_back(int v) {
        if (n_ < inline_capacity) inline_[n_] = v;
        else {
            if (n_ == inline_capacity) heap_.assign(inline_, inline_ + inline_capacity);
            heap_.push_back(v);
        }
        ++n_;
    }
    void clear() {
        n_ = 0;
        heap_.clear();
    }
    const int* data() const { return n_ <= inline_capacity ? inline_ : heap_.data(); }
    int        size() const { return n_; }
    const int* begin() const { return data(); }
    const int* end() const { return data() + n_; }

private:
    static constexpr int inline_capacity = 6;
    int                  inline_[inline_capacity];
    int                  n_ = 0;
    std::vector<int>     heap_;
};

// Resolves a component spec (str, int/enum, Component subclass, callable, or
// a sequence of those) into enum indices; raises ValueError naming the valid
// choices for an unknown name. Unavailable and value-less components are
// dropped when `measurable_only`.
int resolve_components(PyObject* spec, IndexList& out, bool measurable_only);

// What a native hook is handed: a list or tuple of enum indices (ints) that Python
// resolved. Each must name a component (ValueError otherwise; TypeError for anything
// but an int); repeats are dropped, and so are the components that cannot measure when
// `measurable_only`. Returns 0 / -1.
int indices_from_ints(PyObject* seq, IndexList& out, bool measurable_only);

// "cpu_clock, cpu_util, ..." — the names users may pass.
std::string valid_component_choices();

}  // namespace timemory_python
