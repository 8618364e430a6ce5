#ifndef CLOUDMIN_CLIBRSYNC_SHIM_H
#define CLOUDMIN_CLIBRSYNC_SHIM_H
/* librsync has no pkg-config file on Debian; the module map links -lrsync. */
#include <stdio.h>
#include <stdint.h>
#include <librsync.h>

/* rs_librsync_version is an array of unknown size, which Swift cannot import. */
static inline const char *cm_rs_librsync_version(void) { return rs_librsync_version; }
#endif
