#ifndef CLOUDMIN_CLIBRSYNC_SHIM_H
#define CLOUDMIN_CLIBRSYNC_SHIM_H
/* librsync has no pkg-config file on Debian; the module map links -lrsync. */
#include <stdio.h>
#include <stdint.h>
#include <librsync.h>
#endif
