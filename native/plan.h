/* The Plan wire format shared with src/plan/wire.ts (a test keeps the two lists equal).
 *
 * plan   := header op*            header := "MOATPLAN" u32:version u32:op_count u32:total_len
 * op     := u16:type u16:0 u32:len attr*   (len bytes of attrs)
 * attr   := u16:id   u16:0 u32:len data    (kind fixed per id: u64 = 8 bytes, str = no NUL, bytes)
 * All integers little-endian.  The helper rejects unknown ops, unknown attrs, attrs an op
 * does not allow, missing required attrs, wrong sizes and trailing bytes. */
#ifndef MOAT_PLAN_H
#define MOAT_PLAN_H
#include <stddef.h>
#include <stdint.h>

#define PLAN_MAGIC "MOATPLAN"
#define PLAN_VERSION 1
#define PLAN_MAX_BYTES (16u << 20)
#define PLAN_MAX_OPS 4096u

/* ops run by the helper before clone, in the runtime's namespaces */
#define PLAN_OP_CGROUP_JOIN 1
#define PLAN_OP_DEVICE_BPF 2
#define PLAN_OP_NS_JOIN 3
#define PLAN_OP_CONNECT 4
#define PLAN_OP_TIME_OFFSETS 5
#define PLAN_OP_CLONE 6
#define PLAN_OP_IDMAP_TREE 7
#define PLAN_OP_OVERLAY_TREE 9 /* a detached overlay (upper PATH, work SOURCE, lowers ARG; GROUP: their idmap_tree ops) */
/* ops run by the container's first process, in the new namespaces */
#define PLAN_OP_SYNC 10
#define PLAN_OP_HOSTNAME 11
#define PLAN_OP_DOMAINNAME 12
#define PLAN_OP_ROOT_PROPAGATION 13
#define PLAN_OP_ROOT_BIND 14
#define PLAN_OP_MOUNT 15
#define PLAN_OP_MKDEV 16
#define PLAN_OP_SYMLINK 17
#define PLAN_OP_OPEN_FIFO 18
#define PLAN_OP_HOOK 19
#define PLAN_OP_PIVOT 20
#define PLAN_OP_SYSCTL 21
#define PLAN_OP_MASK 22
#define PLAN_OP_READONLY 23
#define PLAN_OP_REMOUNT_ROOT 24
#define PLAN_OP_CONSOLE 25
#define PLAN_OP_RLIMIT 26
#define PLAN_OP_OOM_SCORE_ADJ 27
#define PLAN_OP_PERSONALITY 28
#define PLAN_OP_UMASK 29
#define PLAN_OP_CHDIR 30
#define PLAN_OP_WAIT_START 31
#define PLAN_OP_SET_USER 32
#define PLAN_OP_CAPS 33
#define PLAN_OP_NO_NEW_PRIVS 34
#define PLAN_OP_SECCOMP 35
#define PLAN_OP_LANDLOCK 36
#define PLAN_OP_EXEC 37
#define PLAN_OP_LOOPBACK_UP 38
#define PLAN_OP_LSM_ATTR 39   /* either stage: a label written to a proc attr file */
#define PLAN_OP_UNSHARE 40    /* the container process: a namespace made after its cgroups were joined */
#define PLAN_OP_MAX 41

#define PA_PATH 1       /* str */
#define PA_SOURCE 2     /* str */
#define PA_FSTYPE 3     /* str */
#define PA_DATA 4       /* str */
#define PA_NAME 5       /* str */
#define PA_ARG 6        /* str, repeatable */
#define PA_ENV 7        /* str, repeatable */
#define PA_BYTES 8      /* bytes */
#define PA_FLAGS 9      /* u64 */
#define PA_ATTR_SET 10  /* u64 MOUNT_ATTR_* for the top mount */
#define PA_ATTR_CLR 11  /* u64 */
#define PA_RATTR_SET 12 /* u64 MOUNT_ATTR_* for the whole tree */
#define PA_RATTR_CLR 13 /* u64 */
#define PA_PROPAGATION 14 /* u64 MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE [|MS_REC] */
#define PA_NSTYPE 15    /* u64 CLONE_NEW* */
#define PA_VALUE 16     /* u64 */
#define PA_SOFT 17      /* u64 */
#define PA_HARD 18      /* u64 */
#define PA_UID 19       /* u64 */
#define PA_GID 20       /* u64 */
#define PA_GROUP 21     /* u64, repeatable */
#define PA_MAJOR 22     /* u64 */
#define PA_MINOR 23     /* u64 */
#define PA_MODE 24      /* u64 */
#define PA_UID_MAP 25   /* str, uid_map contents */
#define PA_GID_MAP 26   /* str */
#define PA_CAP_BND 27   /* u64 */
#define PA_CAP_EFF 28
#define PA_CAP_PRM 29
#define PA_CAP_INH 30
#define PA_CAP_AMB 31
#define PA_TIMEOUT 32   /* u64 seconds */
#define PA_ROWS 33      /* u64 */
#define PA_COLS 34      /* u64 */
#define PA_KEEP_FDS 35  /* u64: fds 3..3+N-1 are passed to the container */
#define PA_MAX 36

#endif
