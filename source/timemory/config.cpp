#include "timemory/config.hpp"

namespace tim {

Config& config() {
    static Config instance;
    return instance;
}

}  // namespace tim
