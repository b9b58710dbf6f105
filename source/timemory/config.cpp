#include "timemory/config.hpp"

namespace tim {

Config g_config;

}  // namespace tim
