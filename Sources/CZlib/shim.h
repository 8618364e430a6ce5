#ifndef CLOUDMIN_CZLIB_SHIM_H
#define CLOUDMIN_CZLIB_SHIM_H
/* deflateInit2/inflateInit2 are macros; Swift sees these wrappers instead. */
#include <zlib.h>

static inline int cm_deflateInit2(z_streamp strm, int level, int method, int windowBits,
                                  int memLevel, int strategy) {
    return deflateInit2(strm, level, method, windowBits, memLevel, strategy);
}

static inline int cm_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
#endif
