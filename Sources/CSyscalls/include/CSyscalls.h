#ifndef CLOUDMIN_CSYSCALLS_H
#define CLOUDMIN_CSYSCALLS_H
// Linux calls that Glibc's Swift module leaves out (they need _GNU_SOURCE).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <unistd.h>

/// syncfs(2): writes back every dirty page and inode of the filesystem holding `fd`.
static inline int cm_syncfs(int fd) { return syncfs(fd); }

#endif
