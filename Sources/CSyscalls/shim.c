// CSyscalls is header-only (static inline shims); SwiftPM needs one source file per C target.
#include "CSyscalls.h"
